package com.modelmarket.marketplace.inference;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.plan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every Open Inference Protocol endpoint, with single-input, multi-input and multi-output models. */
@StartedPlatform
@ExtendWith(VertxExtension.class)
class InferenceApiTest {

    private static Platform platform;
    private static Api api;
    private static String key;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
        String publisher = accessToken(api.signUp("OIP Labs", "owner@oip.test", "publisher-password"));
        for (String[] m : new String[][] {{"oip-digits", "digits_mlp"}, {"oip-multi", "multi_io"}}) {
            createModel(api, publisher, m[0], "public", new JsonObject());
            publishVersion(api, publisher, m[0], "1.0.0", m[1]);
            plan(api, publisher, m[0], new JsonObject().put("name", "PAYG").put("type", "pay_as_you_go")
                    .put("currency", "EUR").put("pricePer1000Minor", 10).put("rateLimitPerMinute", 10_000));
        }
        String consumer = accessToken(api.signUp("OIP Client", "owner@oipclient.test", "consumer-password"));
        for (String model : new String[] {"oip-digits", "oip-multi"}) {
            String planId = api.get("/api/v1/models/" + model + "/plans", consumer).bodyAsJsonObject()
                    .getJsonArray("items").getJsonObject(0).getString("id");
            assertEquals(201, api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", model)
                    .put("planId", planId)).statusCode());
        }
        key = api.post("/api/v1/api-keys", consumer, new JsonObject().put("name", "oip")).bodyAsJsonObject().getString("secret");
    }

    private static JsonObject example(String fixture) {
        return Publishing.manifest(fixture).getJsonObject("example");
    }

    private static JsonArray expected(String fixture) {
        return new JsonObject(Buffer.buffer(Publishing.fixtureBytes(fixture + ".json"))).getJsonArray("expected_outputs");
    }

    private static void assertClose(JsonArray expected, JsonArray actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            double e = ((Number) expected.getValue(i)).doubleValue();
            double a = ((Number) actual.getValue(i)).doubleValue();
            assertTrue(Math.abs(e - a) <= 1e-4 * Math.max(1, Math.abs(e)), "element " + i + ": " + e + " vs " + a);
        }
    }

    @Test
    @DisplayName("server live, ready and metadata answer in the spec's shapes (no key needed)")
    void serverEndpoints() {
        assertEquals(true, api.get("/v2/health/live", null).bodyAsJsonObject().getBoolean("live"));
        assertEquals(true, api.get("/v2/health/ready", null).bodyAsJsonObject().getBoolean("ready"));
        JsonObject meta = api.get("/v2", null).bodyAsJsonObject();
        assertEquals("modelmarket", meta.getString("name"));
        assertNotNull(meta.getString("version"));
        assertTrue(meta.getValue("extensions") instanceof JsonArray);
    }

    @Test
    @DisplayName("the binary tensor data extension: raw little-endian inputs after a JSON header, binary outputs back")
    void binaryTensorData() {
        JsonArray data = example("digits_mlp").getJsonArray("inputs").getJsonObject(0).getJsonArray("data");
        java.nio.ByteBuffer raw = java.nio.ByteBuffer.allocate(data.size() * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < data.size(); i++) {
            raw.putFloat(((Number) data.getValue(i)).floatValue());
        }
        Buffer header = new JsonObject().put("id", "bin-1")
                .put("inputs", new JsonArray().add(new JsonObject().put("name", "pixels").put("datatype", "FP32")
                        .put("shape", new JsonArray().add(2).add(64))
                        .put("parameters", new JsonObject().put("binary_data_size", data.size() * 4))))
                .put("outputs", new JsonArray().add(new JsonObject().put("name", "probabilities")
                        .put("parameters", new JsonObject().put("binary_data", true))))
                .toBuffer();
        HttpResponse<Buffer> r = Api.await(api.request(HttpMethod.POST, "/v2/models/oip-digits/infer", key)
                .putHeader("Content-Type", "application/octet-stream")
                .putHeader("Inference-Header-Content-Length", Integer.toString(header.length()))
                .sendBuffer(header.copy().appendBytes(raw.array())));
        assertEquals(200, r.statusCode(), r.bodyAsString());
        int n = Integer.parseInt(r.getHeader("Inference-Header-Content-Length"));
        JsonObject json = r.body().getBuffer(0, n).toJsonObject();
        assertEquals("bin-1", json.getString("id"));
        JsonObject out = json.getJsonArray("outputs").getJsonObject(0);
        assertEquals(80, out.getJsonObject("parameters").getInteger("binary_data_size"));
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(r.body().getBytes(n, r.body().length()))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        JsonArray decoded = new JsonArray();
        while (bytes.hasRemaining()) {
            decoded.add(bytes.getFloat());
        }
        assertClose(expected("digits_mlp").getJsonObject(0).getJsonArray("data"), decoded);

        Buffer shortBody = header.copy().appendBytes(java.util.Arrays.copyOf(raw.array(), 100));
        JsonObject problem = assertProblem(Api.await(api.request(HttpMethod.POST, "/v2/models/oip-digits/infer", key)
                .putHeader("Content-Type", "application/octet-stream")
                .putHeader("Inference-Header-Content-Length", Integer.toString(header.length()))
                .sendBuffer(shortBody)), 400);
        assertEquals("pixels", problem.getString("tensor"));
        raw.putFloat(0, Float.NaN);
        assertProblem(Api.await(api.request(HttpMethod.POST, "/v2/models/oip-digits/infer", key)
                .putHeader("Content-Type", "application/octet-stream")
                .putHeader("Inference-Header-Content-Length", Integer.toString(header.length()))
                .sendBuffer(header.copy().appendBytes(raw.array()))), 400);
    }

    @Test
    @DisplayName("/metrics is not on the public port (404) but on the loopback management listener, in Prometheus text format")
    void metrics(Vertx vertx) {
        assertEquals(200, api.post("/v2/models/oip-digits/infer", key, example("digits_mlp")).statusCode());
        assertProblem(api.get("/metrics", null), 404);
        assertProblem(api.get("/metrics", key), 404);
        assertTrue(platform.managementPort() > 0 && platform.managementPort() != platform.port());
        HttpResponse<Buffer> r;
        try (Api management = new Api(vertx, platform.managementPort())) {
            r = management.get("/metrics", null);
            assertProblem(management.get("/api/v1/catalog", null), 404);
        }
        assertEquals(200, r.statusCode());
        assertTrue(r.getHeader("Content-Type").startsWith("text/plain"));
        String text = r.bodyAsString();
        assertTrue(text.contains("http_server_requests_seconds_count{"), "HTTP timers");
        assertTrue(text.contains("route=\"/v2/models/:model/infer\""), "tagged by route template, not by id");
        assertTrue(text.contains("modelmarket_serving_batch_size"), "batch sizes");
        assertTrue(text.contains("modelmarket_serving_queue_depth"), "queue depth");
    }

    @Test
    @DisplayName("model metadata and model ready, with and without a version or alias")
    void modelEndpoints() {
        JsonObject meta = api.get("/v2/models/oip-multi", key).bodyAsJsonObject();
        assertEquals("oip-multi", meta.getString("name"));
        assertEquals("pytorch_torchscript", meta.getString("platform"));
        assertEquals(new JsonArray().add("1.0.0"), meta.getJsonArray("versions"));
        assertEquals(new JsonObject().put("name", "x").put("datatype", "FP32").put("shape", new JsonArray().add(-1).add(4)),
                meta.getJsonArray("inputs").getJsonObject(0));
        assertEquals(2, meta.getJsonArray("outputs").size());
        assertEquals(meta, api.get("/v2/models/oip-multi/versions/1.0.0", key).bodyAsJsonObject());
        assertEquals(meta, api.get("/v2/models/oip-multi/versions/latest", key).bodyAsJsonObject());
        assertEquals(new JsonObject().put("name", "oip-digits").put("ready", true),
                api.get("/v2/models/oip-digits/ready", key).bodyAsJsonObject());
        assertEquals(200, api.get("/v2/models/oip-digits/versions/1.0.0/ready", key).statusCode());
        JsonObject missing = assertProblem(api.get("/v2/models/no-such-model/ready", key), 404);
        assertNotNull(missing.getString("error"), "OIP clients read 'error'");
        assertProblem(api.get("/v2/models/oip-digits/versions/7.0.0", key), 404);
    }

    @Test
    @DisplayName("infer on a single-input classifier returns what PyTorch computed, echoing the id, with the facts in headers")
    void inferSingleInput() {
        JsonObject request = example("digits_mlp").put("id", "req-42");
        HttpResponse<Buffer> r = api.post("/v2/models/oip-digits/infer", key, request);
        assertEquals(200, r.statusCode(), r.bodyAsString());
        JsonObject body = r.bodyAsJsonObject();
        assertEquals("req-42", body.getString("id"));
        assertEquals("oip-digits", body.getString("model_name"));
        assertEquals("1.0.0", body.getString("model_version"));
        JsonObject out = body.getJsonArray("outputs").getJsonObject(0);
        JsonObject want = expected("digits_mlp").getJsonObject(0);
        assertEquals(want.getString("name"), out.getString("name"));
        assertEquals("FP32", out.getString("datatype"));
        assertEquals(want.getJsonArray("shape"), out.getJsonArray("shape"));
        assertClose(want.getJsonArray("data"), out.getJsonArray("data"));
        for (String h : new String[] {"X-Queue-Time-Micros", "X-Compute-Time-Micros", "X-Batch-Size", "X-Cold-Start", "RateLimit"}) {
            assertNotNull(r.getHeader(h), h);
        }
        HttpResponse<Buffer> pinned = api.post("/v2/models/oip-digits/versions/1.0.0/infer", key, example("digits_mlp"));
        assertEquals(200, pinned.statusCode());
    }

    @Test
    @DisplayName("a multi-input, multi-output model serves every output, or the ones asked for")
    void inferMultiInputMultiOutput() {
        HttpResponse<Buffer> r = api.post("/v2/models/oip-multi/infer", key, example("multi_io"));
        assertEquals(200, r.statusCode(), r.bodyAsString());
        JsonArray outputs = r.bodyAsJsonObject().getJsonArray("outputs");
        JsonArray want = expected("multi_io");
        assertEquals(2, outputs.size());
        for (int i = 0; i < 2; i++) {
            assertEquals(want.getJsonObject(i).getString("name"), outputs.getJsonObject(i).getString("name"));
            assertEquals(want.getJsonObject(i).getString("datatype"), outputs.getJsonObject(i).getString("datatype"));
            assertEquals(want.getJsonObject(i).getJsonArray("shape"), outputs.getJsonObject(i).getJsonArray("shape"));
            assertClose(want.getJsonObject(i).getJsonArray("data"), outputs.getJsonObject(i).getJsonArray("data"));
        }
        JsonObject one = example("multi_io").put("outputs", new JsonArray().add(new JsonObject().put("name", "seq_sum")));
        JsonArray only = api.post("/v2/models/oip-multi/infer", key, one).bodyAsJsonObject().getJsonArray("outputs");
        assertEquals(1, only.size());
        assertEquals("seq_sum", only.getJsonObject(0).getString("name"));
    }

    @Test
    @DisplayName("a request formatted as Triton's and KServe's HTTP clients send it: nested data, parameters, binary_data false")
    void tritonAndKServeClientFormat() {
        // The shape of tritonclient.http / KServe InferRequest JSON bodies (their documented examples), our own values.
        JsonArray rows = new JsonArray();
        JsonArray flat = example("digits_mlp").getJsonArray("inputs").getJsonObject(0).getJsonArray("data");
        for (int r = 0; r < 2; r++) {
            JsonArray row = new JsonArray();
            for (int c = 0; c < 64; c++) {
                row.add(flat.getValue(r * 64 + c));
            }
            rows.add(row);
        }
        String body = "{\"id\":\"1\",\"parameters\":{\"sequence_id\":0},\"inputs\":[{\"name\":\"pixels\",\"shape\":[2,64],"
                + "\"datatype\":\"FP32\",\"parameters\":{\"binary_data\":false},\"data\":" + rows.encode() + "}],"
                + "\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"binary_data\":false}}]}";
        HttpResponse<Buffer> r = Api.await(api.request(HttpMethod.POST, "/v2/models/oip-digits/versions/1.0.0/infer", null)
                .putHeader("Content-Type", "application/json").putHeader("X-API-Key", key).sendBuffer(Buffer.buffer(body)));
        assertEquals(200, r.statusCode(), r.bodyAsString());
        assertClose(expected("digits_mlp").getJsonObject(0).getJsonArray("data"),
                r.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data"));
    }
}
