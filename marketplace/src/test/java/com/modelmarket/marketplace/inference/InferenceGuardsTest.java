package com.modelmarket.marketplace.inference;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.plan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.StartedPlatform;
import com.modelmarket.marketplace.support.TestPlatform;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Everything that stops a call before (or at) the model, with its status, and the metering that follows. */
@StartedPlatform({
        "inference.max-items=64",
        "inference.max-body-bytes=200000"})
@ExtendWith(VertxExtension.class)
class InferenceGuardsTest {

    private static Platform platform;
    private static Api api;
    private static String publisher;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
        publisher = accessToken(api.signUp("Guard Labs", "owner@guard.test", "publisher-password"));
    }

    /** A published digits model with one plan, a tenant subscribed to it, and that tenant's key. */
    private record Setup(String model, String owner, String key, String tenantId) {
    }

    private static Setup setup(String model, JsonObject planBody) {
        createModel(api, publisher, model, "public", new JsonObject());
        publishVersion(api, publisher, model, "1.0.0", "digits_mlp");
        String planId = plan(api, publisher, model, planBody).getString("id");
        JsonObject signUp = api.signUp("Client " + model, "owner@" + model + ".test", "client-password");
        String owner = accessToken(signUp);
        assertEquals(201, api.post("/api/v1/subscriptions", owner, new JsonObject().put("model", model).put("planId", planId)).statusCode());
        String key = api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
        return new Setup(model, owner, key, signUp.getJsonObject("tenant").getString("id"));
    }

    private static JsonObject payg(int rpm) {
        return new JsonObject().put("name", "PAYG").put("type", "pay_as_you_go").put("currency", "EUR")
                .put("pricePer1000Minor", 10).put("rateLimitPerMinute", rpm);
    }

    private static JsonObject request() {
        return Publishing.manifest("digits_mlp").getJsonObject("example");
    }

    private static HttpResponse<Buffer> infer(Setup s, JsonObject body) {
        return api.post("/v2/models/" + s.model() + "/infer", s.key(), body);
    }

    @Test
    @DisplayName("no key → 401, a revoked key → 401 within a second, a tenant without subscription → 403 saying how to subscribe")
    void credentialsAndEntitlement() {
        Setup s = setup("guard-auth", payg(1000));
        assertProblem(api.post("/v2/models/guard-auth/infer", null, request()), 401);
        assertEquals(200, infer(s, request()).statusCode());

        String keyId = api.get("/api/v1/api-keys", s.owner()).bodyAsJsonObject().getJsonArray("items").getJsonObject(0).getString("id");
        assertEquals(204, api.delete("/api/v1/api-keys/" + keyId, s.owner()).statusCode());
        await("the revoked key is refused within a second").atMost(Duration.ofSeconds(1))
                .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20))
                .untilAsserted(() -> assertEquals(401, infer(s, request()).statusCode()));

        String stranger = accessToken(api.signUp("Stranger", "owner@stranger.test", "stranger-password"));
        String strangerKey = api.post("/api/v1/api-keys", stranger, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
        JsonObject problem = assertProblem(api.post("/v2/models/guard-auth/infer", strangerKey, request()), 403);
        assertTrue(problem.getString("detail").contains("/api/v1/subscriptions"), problem.encode());
        assertTrue(problem.getString("detail").contains("/api/v1/models/guard-auth/plans"), problem.encode());
    }

    @Test
    @DisplayName("over the plan's rate limit → 429 with Retry-After, RateLimit and RateLimit-Policy")
    void rateLimit() {
        Setup s = setup("guard-rate", payg(3));
        for (int i = 0; i < 3; i++) {
            HttpResponse<Buffer> ok = infer(s, request());
            assertEquals(200, ok.statusCode());
            assertEquals("\"per-minute\";q=3;w=60", ok.getHeader("RateLimit-Policy"));
        }
        HttpResponse<Buffer> limited = infer(s, request());
        assertProblem(limited, 429);
        assertTrue(Long.parseLong(limited.getHeader("Retry-After")) >= 1);
        assertTrue(limited.getHeader("RateLimit").matches("\"per-minute\";r=0;t=\\d+"), limited.getHeader("RateLimit"));
        assertEquals("\"per-minute\";q=3;w=60", limited.getHeader("RateLimit-Policy"));
    }

    @Test
    @DisplayName("the free plan's monthly cap → 429 with the reset time")
    void freeCap() {
        Setup s = setup("guard-free", new JsonObject().put("name", "Free").put("type", "free").put("currency", "EUR")
                .put("includedCalls", 2).put("rateLimitPerMinute", 100));
        assertEquals(200, infer(s, request()).statusCode());
        assertEquals(200, infer(s, request()).statusCode());
        HttpResponse<Buffer> capped = infer(s, request());
        JsonObject problem = assertProblem(capped, 429);
        assertEquals(true, problem.getBoolean("quotaExceeded"));
        assertTrue(problem.getString("resetAt").endsWith("-01T00:00:00Z"), problem.encode());
        assertNotNull(capped.getHeader("Retry-After"));
    }

    @Test
    @DisplayName("a retired version → 410; a deprecated one still serves and says so")
    void retiredAndDeprecated() {
        Setup s = setup("guard-retire", payg(1000));
        publishVersion(api, publisher, "guard-retire", "1.1.0", "digits_mlp");
        api.post("/api/v1/models/guard-retire/versions/1.0.0/deprecate", publisher, null);
        HttpResponse<Buffer> deprecated = api.post("/v2/models/guard-retire/versions/1.0.0/infer", s.key(), request());
        assertEquals(200, deprecated.statusCode());
        assertTrue(deprecated.getHeader("Deprecation").startsWith("@"));
        assertEquals(200, api.post("/api/v1/models/guard-retire/versions/1.0.0/retire", publisher, null).statusCode());
        assertProblem(api.post("/v2/models/guard-retire/versions/1.0.0/infer", s.key(), request()), 410);
        assertEquals("1.1.0", infer(s, request()).bodyAsJsonObject().getString("model_version"));
    }

    @Test
    @DisplayName("rollback (moving latest back) and cancelling the subscription take effect for the next request at once")
    void changesTakeEffectAtOnce() {
        Setup s = setup("guard-rollback", payg(1000));
        publishVersion(api, publisher, "guard-rollback", "1.1.0", "digits_mlp");
        assertEquals("1.1.0", infer(s, request()).bodyAsJsonObject().getString("model_version"));
        assertEquals("1.1.0", infer(s, request()).bodyAsJsonObject().getString("model_version"));
        assertEquals(200, api.send(HttpMethod.PUT, "/api/v1/models/guard-rollback/aliases/latest", publisher,
                new JsonObject().put("version", "1.0.0")).statusCode());
        assertEquals("1.0.0", infer(s, request()).bodyAsJsonObject().getString("model_version"));
        String subscription = api.get("/api/v1/subscriptions", s.owner()).bodyAsJsonObject().getJsonArray("items")
                .getJsonObject(0).getString("id");
        assertEquals(200, api.delete("/api/v1/subscriptions/" + subscription, s.owner()).statusCode());
        assertProblem(infer(s, request()), 403);
    }

    @Test
    @DisplayName("each malformed tensor → 400 naming the tensor, and never reaches a worker or the meter")
    void malformedTensors() throws Exception {
        Setup s = setup("guard-tensor", payg(1000));
        List<Consumer<JsonObject>> breakages = List.of(
                r -> input(r).put("name", "pixelz"),
                r -> input(r).put("datatype", "INT32"),
                r -> input(r).put("shape", new JsonArray().add(2).add(63)),
                r -> input(r).put("shape", new JsonArray().add(2).add(64).add(1)),
                r -> input(r).put("data", new JsonArray().add(1.0)),
                r -> input(r).getJsonArray("data").set(5, "seven"),
                r -> input(r).getJsonArray("data").set(0, Double.POSITIVE_INFINITY),
                r -> input(r).getJsonArray("data").set(0, 1e300),
                r -> input(r).put("shape", new JsonArray().add(65).add(64)),
                r -> r.put("outputs", new JsonArray().add(new JsonObject().put("name", "logits"))),
                r -> r.put("inputs", new JsonArray()));
        for (Consumer<JsonObject> breakage : breakages) {
            JsonObject body = request();
            breakage.accept(body);
            HttpResponse<Buffer> r = infer(s, body);
            JsonObject problem = assertProblem(r, 400);
            assertNotNull(problem.getString("tensor"), problem.encode());
            assertTrue(problem.getString("error").contains(problem.getString("tensor")), problem.encode());
        }
        HttpResponse<Buffer> tooBig = Api.await(api.request(HttpMethod.POST, "/v2/models/guard-tensor/infer", s.key())
                .putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer("{\"inputs\":[" + " ".repeat(210_000) + "]}")));
        assertProblem(tooBig, 413);
        assertProblem(Api.await(api.request(HttpMethod.POST, "/v2/models/guard-tensor/infer", s.key())
                .putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer("{\"inputs\": [{"))), 400);
        await("refused requests are not metered").during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertMetered(s.tenantId(), Set.of()));
    }

    @Test
    @DisplayName("a body in many chunks is read as the same request as one in a single chunk; chunks over the limit are 413; Expect: 100-continue is answered, another expectation is 417")
    void chunkedBodies() throws Exception {
        Setup s = setup("guard-chunks", payg(1000));
        String path = "/v2/models/guard-chunks/infer";
        String body = request().encode();
        HttpResponse<Buffer> whole = infer(s, request());
        assertEquals(200, whole.statusCode(), whole.bodyAsString());
        String head = "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.key() + "\r\n"
                + "Content-Type: application/json\r\nConnection: close\r\n";
        StringBuilder chunks = new StringBuilder();
        for (int i = 0; i < body.length(); i += 97) {
            String part = body.substring(i, Math.min(body.length(), i + 97));
            chunks.append(Integer.toHexString(part.length())).append("\r\n").append(part).append("\r\n");
        }
        String chunked = raw(head + "Transfer-Encoding: chunked\r\n\r\n", chunks + "0\r\n\r\n");
        assertTrue(chunked.startsWith("HTTP/1.1 200"), chunked);
        assertEquals(whole.bodyAsJsonObject().getJsonArray("outputs"),
                new JsonObject(chunked.substring(chunked.indexOf("\r\n\r\n") + 4)).getJsonArray("outputs"));

        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            big.append("2000\r\n").append(" ".repeat(0x2000)).append("\r\n");
        }
        String tooBig = raw(head + "Transfer-Encoding: chunked\r\n\r\n", big + "0\r\n\r\n");
        assertTrue(tooBig.startsWith("HTTP/1.1 413"), tooBig);

        String continued = raw(head + "Content-Length: " + body.length() + "\r\nExpect: 100-continue\r\n\r\n", body);
        assertTrue(continued.startsWith("HTTP/1.1 100 Continue"), continued);
        assertTrue(continued.contains("HTTP/1.1 200"), continued);
        String expectation = raw(head + "Content-Length: " + body.length() + "\r\nExpect: something-else\r\n\r\n", body);
        assertTrue(expectation.startsWith("HTTP/1.1 417"), expectation);
    }

    /** Sends a request as written, its body in pieces with pauses between them, and reads until the server closes. */
    private static String raw(String head, String body) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", platform.port())) {
            socket.setSoTimeout(15_000);
            java.io.OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            for (int i = 0; i < bytes.length; i += 4096) {
                out.write(bytes, i, Math.min(4096, bytes.length - i));
                out.flush();
                Thread.sleep(5); // the server reads it as several chunks
            }
            java.io.ByteArrayOutputStream answer = new java.io.ByteArrayOutputStream();
            try {
                socket.getInputStream().transferTo(answer);
            } catch (java.net.SocketException reset) {
                // a reset after the answer (an unread body) still ends it
            }
            return answer.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }

    private static JsonObject input(JsonObject request) {
        return request.getJsonArray("inputs").getJsonObject(0);
    }

    @Test
    @DisplayName("one usage record per request that reached the model, with the request's id; none for refused ones")
    void metering() throws Exception {
        Setup s = setup("guard-meter", payg(8));
        Set<String> served = new HashSet<>();
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            JsonObject body = request();
            if (i % 4 == 3) {
                input(body).put("datatype", "FP64"); // refused before the model
            }
            HttpResponse<Buffer> r = infer(s, body);
            statuses.add(r.statusCode());
            if (r.statusCode() == 200) {
                served.add(r.getHeader("X-Request-Id"));
            }
        }
        assertProblem(api.post("/v2/models/guard-meter/infer", null, request()), 401);
        assertTrue(statuses.contains(400) && statuses.contains(429) && statuses.contains(200), statuses.toString());
        await("every served request is metered").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertMetered(s.tenantId(), served));
        await("no late or duplicate records").during(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertMetered(s.tenantId(), served));
    }

    @Test
    @DisplayName("overload: a full queue answers 503 with Retry-After, and service resumes")
    void overload(Vertx vertx) {
        Platform small = TestPlatform.startOnFreshDatabase(vertx, Map.of("serving.max-queue", "2",
                "serving.max-workers", "1", "serving.max-batch-size", "1"));
        try (Api local = new Api(vertx, small.port())) {
            String pub = accessToken(local.signUp("Tiny", "owner@tiny.test", "publisher-password"));
            createModel(local, pub, "tiny-digits", "private", new JsonObject());
            publishVersion(local, pub, "tiny-digits", "1.0.0", "digits_cnn");
            String key = local.post("/api/v1/api-keys", pub, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
            JsonObject big = Publishing.manifest("digits_cnn").getJsonObject("example");
            List<Future<HttpResponse<Buffer>>> calls = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                calls.add(local.request(HttpMethod.POST, "/v2/models/tiny-digits/infer", key).sendJsonObject(big));
            }
            Api.await(Future.join(calls));
            long overloaded = calls.stream().filter(f -> f.result().statusCode() == 503).count();
            long ok = calls.stream().filter(f -> f.result().statusCode() == 200).count();
            assertTrue(overloaded > 0, "no 503 among 60 concurrent calls");
            assertEquals(60, ok + overloaded);
            HttpResponse<Buffer> refused = calls.stream().map(Future::result).filter(r -> r.statusCode() == 503).findFirst().orElseThrow();
            assertProblem(refused, 503);
            assertTrue(Long.parseLong(refused.getHeader("Retry-After")) >= 1);
            assertEquals(200, local.post("/v2/models/tiny-digits/infer", key, big).statusCode());
        } finally {
            TestPlatform.stop(small);
        }
    }

    /** What was metered for the tenant: exactly the served request ids, each once, and as many calls in the rollups. */
    private static void assertMetered(String tenantId, Set<String> served) {
        DbTarget db = platform.services().database().target();
        List<String> logged = Sql.meteredRequestIds(db, tenantId);
        assertEquals(served, new HashSet<>(logged), "request ids in the tenant's usage commit log");
        assertEquals(served.size(), logged.size(), "a request counted twice: " + logged);
        assertEquals(served.size(), Sql.meteredCalls(db, tenantId), "calls metered for the tenant");
    }
}
