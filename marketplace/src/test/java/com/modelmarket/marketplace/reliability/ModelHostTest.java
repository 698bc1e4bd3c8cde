package com.modelmarket.marketplace.reliability;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.fixtureBytes;
import static com.modelmarket.marketplace.support.Publishing.manifest;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static com.modelmarket.marketplace.support.Publishing.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import com.modelmarket.serving.HostStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Publisher code over HTTP: a model whose code reads files is refused at upload with {@code
 * unsafe-op}; each publisher's models run in a host of their own, and one killed under load costs
 * only its publisher's in-flight calls (503/504), is restarted, and metering counts exactly the
 * answered calls. Secrets in the data directory are readable by their owner alone.
 */
@StartedPlatform
@ExtendWith(VertxExtension.class)
class ModelHostTest {

    private static final JsonObject REQUEST = manifest("digits_mlp").getJsonObject("example");
    private static Platform platform;
    private static Api api;
    private static String crashyOwner;
    private static String steadyOwner;
    private static String crashyKey;
    private static String steadyKey;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
        crashyOwner = accessToken(api.signUp("Crashy Models", "owner@crashy.test", "crashy-password"));
        steadyOwner = accessToken(api.signUp("Steady Models", "owner@steady.test", "steady-password"));
        createModel(api, crashyOwner, "crashy", "private", new JsonObject());
        createModel(api, steadyOwner, "steady", "private", new JsonObject());
        publishVersion(api, crashyOwner, "crashy", "1.0.0", "digits_mlp");
        publishVersion(api, steadyOwner, "steady", "1.0.0", "digits_mlp");
        crashyKey = api.post("/api/v1/api-keys", crashyOwner, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
        steadyKey = api.post("/api/v1/api-keys", steadyOwner, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
    }

    @Test
    @DisplayName("a TorchScript model calling torch.from_file is refused at upload with 422 check unsafe-op")
    void unsafeOpRefused() {
        String sha = upload(api, crashyOwner, fixtureBytes("file_probe.pt"));
        createModel(api, crashyOwner, "probe", "private", new JsonObject());
        HttpResponse<Buffer> r = api.post("/api/v1/models/probe/versions", crashyOwner, new JsonObject()
                .put("version", "1.0.0").put("artifactSha256", sha).put("manifest", manifest("file_probe")));
        JsonObject problem = Api.assertProblem(r, 422);
        assertEquals("unsafe-op", problem.getString("check"), problem.encode());
        assertTrue(problem.getString("reason").contains("torch.from_file"), problem.encode());
    }

    @Test
    @DisplayName("every publisher has its own host; SIGKILL of one under load fails only its calls with 503/504; metered = answered")
    void hostKilledUnderLoad(Vertx vertx) throws Exception {
        assertEquals(200, api.post("/v2/models/crashy/infer", crashyKey, REQUEST).statusCode());
        assertEquals(200, api.post("/v2/models/steady/infer", steadyKey, REQUEST).statusCode());
        List<HostStatus> hosts = platform.services().serving().hosts();
        assertEquals(2, hosts.stream().map(HostStatus::owner).distinct().count(), hosts.toString());
        long crashyHost = hostOf(crashyOwner);
        Map<Integer, Integer> crashy = new TreeMap<>();
        Map<Integer, Integer> steady = new TreeMap<>();
        crashy.merge(200, 1, Integer::sum);
        steady.merge(200, 1, Integer::sum);
        long until = System.nanoTime() + 3_000_000_000L;
        boolean killed = false;
        while (System.nanoTime() < until) {
            List<Future<HttpResponse<Buffer>>> wave = new ArrayList<>();
            List<Future<HttpResponse<Buffer>>> theirs = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                wave.add(api.request(HttpMethod.POST, "/v2/models/crashy/infer", crashyKey).sendJsonObject(REQUEST));
                theirs.add(api.request(HttpMethod.POST, "/v2/models/steady/infer", steadyKey).sendJsonObject(REQUEST));
            }
            if (!killed && System.nanoTime() > until - 2_000_000_000L) {
                long java = ProcessHandle.of(crashyHost).orElseThrow().descendants()
                        .filter(h -> h.info().command().orElse("").endsWith("java")).findFirst().orElseThrow().pid();
                assertEquals(0, new ProcessBuilder("kill", "-KILL", "" + java).start().waitFor());
                killed = true;
            }
            for (Future<HttpResponse<Buffer>> f : wave) {
                crashy.merge(Api.await(f).statusCode(), 1, Integer::sum);
            }
            for (Future<HttpResponse<Buffer>> f : theirs) {
                steady.merge(Api.await(f).statusCode(), 1, Integer::sum);
            }
        }
        // the restarted host serves again (honouring Retry-After while it restarts)
        for (int attempt = 0; attempt < 20; attempt++) {
            HttpResponse<Buffer> r = api.post("/v2/models/crashy/infer", crashyKey, REQUEST);
            crashy.merge(r.statusCode(), 1, Integer::sum);
            if (r.statusCode() == 200) {
                break;
            }
            assertEquals(503, r.statusCode(), r.bodyAsString());
            TimeUnit.SECONDS.sleep(Long.parseLong(r.getHeader("Retry-After"))); // NOPMD: honours Retry-After
        }
        System.out.printf("host killed under load: crashy publisher %s, steady publisher %s%n", crashy, steady);
        assertEquals(Set.of(200), steady.keySet(), "the other publisher's calls all succeed: " + steady);
        assertTrue(Set.of(200, 503, 504).containsAll(crashy.keySet()), "only 503/504 for the killed host: " + crashy);
        // only calls on the host at the kill fail (often none: calls queued behind it wait for the fresh
        // host); that every one of them fails as 503/504 and never as 500 is what the check above holds
        assertNotEquals(crashyHost, hostOf(crashyOwner), "a fresh host");
        awaitBilled(crashyOwner, "crashy", crashy.get(200));
        awaitBilled(steadyOwner, "steady", steady.get(200));
    }

    @Test
    @DisplayName("secret files in the data directory are readable by their owner only")
    void secretsAreOwnerOnly() throws Exception {
        Path data = platform.services().config().dataDir();
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE),
                Files.getPosixFilePermissions(data), "the data directory");
        try (var files = Files.walk(data.resolve("keys"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                        Files.getPosixFilePermissions(f), f.toString());
            }
        }
    }

    private static long hostOf(String ownerToken) {
        String tenant = api.get("/api/v1/tenant", ownerToken).bodyAsJsonObject().getString("id");
        return platform.services().serving().hosts().stream().filter(h -> h.owner().equals(tenant))
                .mapToLong(HostStatus::pid).findFirst().orElse(-1);
    }

    /** Waits (bounded) until the owner's usage summary bills exactly {@code answered} calls of the model. */
    private static void awaitBilled(String token, String slug, long answered) {
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        await(slug + ": billed calls must equal the 200 answers").atMost(Duration.ofSeconds(20))
                .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                    JsonArray rows = api.get("/api/v1/usage/summary?from=" + today + "&to=" + today, token)
                            .bodyAsJsonObject().getJsonArray("items");
                    assertEquals(answered, rows.stream().map(JsonObject.class::cast)
                            .filter(r -> slug.equals(r.getString("model"))).mapToLong(r -> r.getLong("billableCalls")).sum());
                });
    }
}
