package com.modelmarket.marketplace.reliability;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import com.modelmarket.marketplace.Main;
import com.modelmarket.marketplace.http.HttpVerticle;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.TestDatabases;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real process: SIGTERM with 40 inference requests in flight answers every one of them (200,
 * or a clean 503 for one that arrived after the drain began), meters exactly the answered ones,
 * stops well within the drain bound and exits 0.
 */
@ExtendWith(VertxExtension.class)
@Tag("slow")
class SigtermTest {

    @Test
    @DisplayName("SIGTERM under load answers every request in flight, flushes usage and exits 0 within the bound")
    void sigtermUnderLoad(Vertx vertx, @TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        var db = TestDatabases.freshDatabase();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Xmx512m", Main.class.getName())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("server.log").toFile());
        pb.environment().put("MM_HTTP_PORT", Integer.toString(port));
        pb.environment().put("MM_HTTP_HOST", "127.0.0.1");
        pb.environment().put("MM_MANAGEMENT_PORT", "0");
        pb.environment().put("MM_DATA_DIR", dir.resolve("data").toString());
        pb.environment().put("MM_DB_URL", TestDatabases.url(db));
        pb.environment().put("MM_PASSWORD_ARGON2_MEMORY_KIB", "1024");
        pb.environment().put("MM_PASSWORD_ARGON2_ITERATIONS", "1");
        Process server = pb.start();
        try (Api api = new Api(vertx, port)) {
            await("the server in the second JVM is ready").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(300))
                    .ignoreExceptions().until(() -> api.get("/health/ready", null).statusCode() == 200);
            String owner = accessToken(api.signUp("Sigterm Org", "owner@sigterm.test", "sigterm-password"));
            createModel(api, owner, "sigterm-digits", "private", new JsonObject());
            publishVersion(api, owner, "sigterm-digits", "1.0.0", "digits_mlp");
            String key = api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
            List<Future<HttpResponse<Buffer>>> calls = new ArrayList<>();
            io.vertx.core.Promise<Void> firstAnswer = io.vertx.core.Promise.promise();
            for (int i = 0; i < 40; i++) {
                Future<HttpResponse<Buffer>> call = api.request(HttpMethod.POST, "/v2/models/sigterm-digits/infer", key)
                        .sendJsonObject(Publishing.manifest("digits_mlp").getJsonObject("example"));
                call.onComplete(ar -> firstAnswer.tryComplete());
                calls.add(call);
            }
            // SIGTERM while the others are in flight, but only once the server has taken up the load:
            // sent at once, the signal could beat every request to the server (all 40 then a clean 503)
            Api.await(firstAnswer.future());
            long t0 = System.nanoTime();
            server.destroy(); // SIGTERM
            assertTrue(server.waitFor(Main.STOP_SECONDS + 15, TimeUnit.SECONDS), "the server did not stop in time");
            long stopMillis = (System.nanoTime() - t0) / 1_000_000;
            Path log = dir.resolve("server.log");
            assertEquals(0, server.exitValue(), () -> "exit code after SIGTERM; log:\n" + tail(log));
            Api.await(Future.join(calls).otherwiseEmpty());
            Map<String, Long> outcomes = calls.stream().collect(Collectors.groupingBy(SigtermTest::outcome, TreeMap::new, Collectors.counting()));
            long answered = outcomes.getOrDefault("200", 0L);
            long refused = outcomes.getOrDefault("503", 0L);
            long metered = com.modelmarket.marketplace.support.Sql.meteredCalls(db);
            System.out.println("SigtermTest: stopped in " + stopMillis + " ms, exit 0, answers " + outcomes + ", metered " + metered);
            assertEquals(calls.size(), answered + refused, () -> "every request sent before SIGTERM gets an answer, 200 or a clean 503: "
                    + outcomes + "; log:\n" + tail(log));
            for (Future<HttpResponse<Buffer>> call : calls) {
                if (call.result().statusCode() == 503) {
                    Api.assertProblem(call.result(), 503);
                    assertTrue(Long.parseLong(call.result().getHeader("Retry-After")) >= 1);
                }
            }
            assertTrue(answered > 0, "no request was answered 200: " + outcomes);
            assertEquals(answered, metered, "each answered request metered once, no refused one");
            // The drain ends when the last answer is out, not at its bound.
            assertTrue(stopMillis < HttpVerticle.DRAIN_SECONDS * 1000, "stopping took " + stopMillis + " ms");
        } finally {
            if (server.isAlive()) {
                server.destroyForcibly();
            }
        }
    }

    private static String outcome(Future<HttpResponse<Buffer>> call) {
        return call.succeeded() ? Integer.toString(call.result().statusCode()) : call.cause().getClass().getSimpleName();
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (java.io.IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
