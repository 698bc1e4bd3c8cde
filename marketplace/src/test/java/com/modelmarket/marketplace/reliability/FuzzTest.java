package com.modelmarket.marketplace.reliability;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.freePlan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.errors.DomainException;
import com.modelmarket.marketplace.http.FailureHandler;
import com.modelmarket.marketplace.inference.TensorCodec;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.StartedPlatform;
import com.modelmarket.serving.model.ModelManifest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of every JSON endpoint and of the tensor decoder: nothing answers 5xx, nothing
 * crashes, and the server keeps serving. Cases per run: {@code -Dmm.fuzz.cases} (default 1200 over
 * HTTP, 20000 for the decoder); replay a failure with {@code -Dmm.fuzz.seed}.
 */
@StartedPlatform({
        "login.max-failures=1000000",
        "login.account-backoff-after=1000000"})
@Tag("slow")
class FuzzTest {

    private static final long SEED = Long.getLong("mm.fuzz.seed", System.nanoTime());
    private static final int CASES = Integer.getInteger("mm.fuzz.cases", 1200);
    /**
     * Used heap after GC may grow this much over the HTTP fuzzing ({@code -Dmm.fuzz.heap-growth-mib}).
     * Measured growth is under 1 MiB; the 1,200 bodies total about 1.4 MiB, so a bound much above
     * this one would let a leak of a whole request's objects (tens of KiB each) pass unseen.
     */
    private static final long HEAP_GROWTH_BOUND = Long.getLong("mm.fuzz.heap-growth-mib", 16) << 20;
    private static Platform platform;
    private static Api api;
    private static String owner;
    private static String key;
    private static String memberId;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
        owner = accessToken(api.signUp("Fuzz Org", "owner@fuzz.test", "fuzz-password-1"));
        createModel(api, owner, "fuzz-digits", "public", new JsonObject());
        publishVersion(api, owner, "fuzz-digits", "1.0.0", "digits_mlp");
        freePlan(api, owner, "fuzz-digits");
        key = api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "fuzz")).bodyAsJsonObject().getString("secret");
        memberId = api.post("/api/v1/members", owner, new JsonObject().put("email", "m@fuzz.test")
                .put("password", "member-password").put("role", "member")).bodyAsJsonObject().getString("id");
    }

    private record Target(HttpMethod method, String path, String credential, JsonObject valid) {
    }

    @Test
    @DisplayName("hostile bodies on every JSON endpoint never get a 5xx, and the server keeps serving")
    void httpEndpoints() {
        List<Target> targets = List.of(
                new Target(HttpMethod.POST, "/api/v1/auth/signup", null, new JsonObject().put("organisation", "O")
                        .put("email", "a@b.test").put("password", "long-enough-password")),
                new Target(HttpMethod.POST, "/api/v1/auth/login", null, new JsonObject().put("email", "owner@fuzz.test")
                        .put("password", "wrong-password")),
                new Target(HttpMethod.POST, "/api/v1/auth/refresh", null, new JsonObject().put("refreshToken", "mmr_x")),
                new Target(HttpMethod.POST, "/api/v1/members", owner, new JsonObject().put("email", "n@fuzz.test")
                        .put("password", "member-password").put("role", "member")),
                new Target(HttpMethod.PATCH, "/api/v1/members/" + memberId, owner, new JsonObject().put("role", "member")),
                new Target(HttpMethod.POST, "/api/v1/api-keys", owner, new JsonObject().put("name", "k")
                        .put("scopes", new JsonArray().add("inference")).put("expiresAt", "2099-01-01T00:00:00Z")),
                new Target(HttpMethod.POST, "/api/v1/models", owner, new JsonObject().put("slug", "fz").put("name", "F")
                        .put("task", "regression").put("visibility", "private").put("tags", new JsonArray().add("t"))),
                new Target(HttpMethod.PATCH, "/api/v1/models/fuzz-digits", owner, new JsonObject().put("summary", "s")),
                new Target(HttpMethod.POST, "/api/v1/models/fuzz-digits/plans", owner, new JsonObject().put("name", "P")
                        .put("type", "pay_as_you_go").put("currency", "EUR").put("pricePer1000Minor", 5)
                        .put("rateLimitPerMinute", 10)),
                new Target(HttpMethod.POST, "/api/v1/models/fuzz-digits/plans", owner, new JsonObject().put("name", "M")
                        .put("type", "monthly").put("currency", "EUR").put("monthlyFeeMinor", 100).put("includedCalls", 10)
                        .put("pricePer1000Minor", 5).put("rateLimitPerMinute", 10)),
                new Target(HttpMethod.PUT, "/api/v1/models/fuzz-digits/aliases/stable", owner, new JsonObject().put("version", "1.0.0")),
                new Target(HttpMethod.POST, "/api/v1/models/fuzz-digits/versions", owner, new JsonObject().put("version", "9.9.9")
                        .put("artifactSha256", "0".repeat(64)).put("manifest", Publishing.manifest("digits_mlp"))),
                new Target(HttpMethod.POST, "/api/v1/subscriptions", owner, new JsonObject().put("model", "fuzz-digits")
                        .put("planId", "00000000-0000-0000-0000-000000000000")),
                new Target(HttpMethod.POST, "/v2/models/fuzz-digits/infer", key, Publishing.manifest("digits_mlp")
                        .getJsonObject("example")));
        JsonFuzz fuzz = new JsonFuzz(SEED);
        Map<Integer, Integer> statuses = new TreeMap<>();
        // one good call first, so that loading the model is not counted as growth
        assertTrue(api.post("/v2/models/fuzz-digits/infer", key, Publishing.manifest("digits_mlp").getJsonObject("example"))
                .statusCode() == 200, "inference works before the fuzzing");
        long heapBefore = usedHeapAfterGc();
        long sent = 0;
        for (int i = 0; i < CASES; i++) {
            Target t = targets.get(i % targets.size());
            String body = fuzz.body(t.valid());
            Buffer bytes = Buffer.buffer(body);
            sent += bytes.length();
            HttpResponse<Buffer> r = Api.await(api.request(t.method(), t.path(), t.credential())
                    .putHeader("Content-Type", "application/json").sendBuffer(bytes));
            statuses.merge(r.statusCode(), 1, Integer::sum);
            if (r.statusCode() >= 500) {
                fail("seed " + SEED + " case " + i + ": " + t.method() + " " + t.path() + " answered " + r.statusCode()
                        + " to " + abbreviate(body) + " -> " + r.bodyAsString());
            }
            if (r.statusCode() >= 400) {
                assertTrue(r.getHeader("Content-Type").startsWith("application/problem+json"), "seed " + SEED + " case " + i);
            }
        }
        long heapAfter = usedHeapAfterGc();
        System.out.println("FuzzTest.httpEndpoints seed=" + SEED + " cases=" + CASES + " statuses=" + statuses
                + " sentMiB=" + mib(sent) + " heapAfterGcMiB=" + mib(heapBefore) + "->" + mib(heapAfter));
        // Server and client share this JVM: a retained request, parser buffer or per-request cache
        // entry shows up here.
        assertTrue(heapAfter - heapBefore < HEAP_GROWTH_BOUND, "seed " + SEED + ": used heap after GC grew from "
                + mib(heapBefore) + " to " + mib(heapAfter) + " MiB over the fuzzing (bound " + mib(HEAP_GROWTH_BOUND) + " MiB)");
        assertTrue(api.get("/health/ready", null).statusCode() == 200, "still serving after the fuzzing");
        assertTrue(api.post("/v2/models/fuzz-digits/infer", key, Publishing.manifest("digits_mlp").getJsonObject("example"))
                .statusCode() == 200, "inference still works");
    }

    @Test
    @DisplayName("correctly signed access tokens with hostile claims (types confused, extreme numbers and dates) answer 200 or 401, never 5xx")
    void jwtClaims() throws Exception {
        var keys = platform.services().config().dataDir().resolve("keys");
        String pem = java.nio.file.Files.readString(keys.resolve("jwt-es256-private.pem"));
        java.security.PrivateKey key = java.security.KeyFactory.getInstance("EC").generatePrivate(
                new java.security.spec.PKCS8EncodedKeySpec(java.util.Base64.getDecoder().decode(
                        pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""))));
        String real = owner; // the claims of a real session (a login could meet the throttle after the login fuzzing)
        JsonObject valid = new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(real.split("\\.")[1]),
                java.nio.charset.StandardCharsets.UTF_8));
        JsonFuzz fuzz = new JsonFuzz(SEED);
        Map<Integer, Integer> statuses = new TreeMap<>();
        int cases = Math.max(200, CASES / 3);
        for (int i = 0; i < cases; i++) {
            long now = System.currentTimeMillis() / 1000;
            JsonObject claims = fuzz.mutate(valid.copy().put("nbf", now - 5).put("exp", now + 600));
            HttpResponse<Buffer> r = api.get("/api/v1/me", signLowS(claims, key));
            statuses.merge(r.statusCode(), 1, Integer::sum);
            if (r.statusCode() != 200 && r.statusCode() != 401) {
                fail("seed " + SEED + " case " + i + ": claims " + abbreviate(claims.encode()) + " -> " + r.statusCode()
                        + " " + r.bodyAsString());
            }
            if (r.statusCode() == 401) {
                assertTrue(r.getHeader("Content-Type").startsWith("application/problem+json"), "seed " + SEED + " case " + i);
            }
        }
        System.out.println("FuzzTest.jwtClaims seed=" + SEED + " cases=" + cases + " statuses=" + statuses);
        assertTrue(statuses.getOrDefault(401, 0) > cases / 3, "the mutations should mostly be refused: " + statuses);
    }

    /** An ES256 compact token over {@code claims}, its signature in the low-S form the server issues. */
    private static String signLowS(JsonObject claims, java.security.PrivateKey key) throws Exception {
        var b64 = java.util.Base64.getUrlEncoder().withoutPadding();
        String input = b64.encodeToString("{\"alg\":\"ES256\",\"typ\":\"JWT\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                + "." + b64.encodeToString(claims.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        java.security.Signature signer = java.security.Signature.getInstance("SHA256withECDSAinP1363Format");
        signer.initSign(key);
        signer.update(input.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        byte[] sig = signer.sign();
        java.math.BigInteger n = new java.math.BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);
        java.math.BigInteger s = new java.math.BigInteger(1, java.util.Arrays.copyOfRange(sig, 32, 64));
        if (s.compareTo(n.shiftRight(1)) > 0) {
            byte[] low = n.subtract(s).toByteArray();
            java.util.Arrays.fill(sig, 32, 64, (byte) 0);
            int len = Math.min(low.length, 32);
            System.arraycopy(low, low.length - len, sig, 64 - len, len);
        }
        return input + "." + b64.encodeToString(sig);
    }

    @Test
    @DisplayName("the tensor decoder refuses every hostile request with a 400 naming the problem, and never throws anything else")
    void tensorDecoder() {
        ModelManifest manifest = ModelManifest.fromJson(Publishing.manifest("multi_io"));
        JsonObject valid = Publishing.manifest("multi_io").getJsonObject("example");
        TensorCodec.Limits limits = new TensorCodec.Limits(1024, 1 << 20);
        JsonFuzz fuzz = new JsonFuzz(SEED);
        int cases = Integer.getInteger("mm.fuzz.cases", 1200) * 16;
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < cases; i++) {
            JsonObject body = fuzz.mutate(valid.copy());
            if (body.getValue("inputs") instanceof JsonArray inputs) {
                for (int j = 0; j < inputs.size(); j++) {
                    if (inputs.getValue(j) instanceof JsonObject o) {
                        inputs.set(j, fuzz.mutate(o.copy()));
                    }
                }
            }
            try {
                TensorCodec.decode(body, manifest, limits);
                accepted++;
            } catch (DomainException e) {
                refused++;
                if (FailureHandler.statusOf(e) != 400) {
                    fail("seed " + SEED + " case " + i + ": status " + FailureHandler.statusOf(e) + " for " + abbreviate(body.encode()));
                }
            } catch (RuntimeException e) {
                fail("seed " + SEED + " case " + i + ": " + e + " for " + abbreviate(body.encode()));
            }
        }
        System.out.println("FuzzTest.tensorDecoder seed=" + SEED + " cases=" + cases + " accepted=" + accepted + " refused=" + refused);
        assertTrue(refused > cases / 2, "the mutations should mostly be refused");
    }

    /** Used heap after full collections: the smallest of a few readings, each after System.gc(). */
    private static long usedHeapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(100); // spaces the readings apart (a measurement, not a wait for a condition)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
        }
        return least;
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f", bytes / (1024.0 * 1024.0));
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…(" + s.length() + " chars)" : s;
    }
}
