package com.modelmarket.marketplace.cluster;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.NodeProcess;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.TestDatabases;
import com.modelmarket.marketplace.support.TestPlatform;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three JVMs on loopback — one api node, two serving nodes — on one PostgreSQL, Hazelcast TCP-IP on
 * 127.0.0.1: inference through the api node answers what a single node answers, JSON and binary;
 * calls spread over both serving nodes; a serving node killed with {@code kill -9} under steady load
 * costs only 503s with Retry-After until the other takes every call (within 5 s), and the api node
 * meters exactly the 200s. The serving nodes keep stores of their own: each fetches the artifact
 * from the api node and checks its SHA-256.
 */
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterInferenceTest {

    private static Vertx vertx;
    private static DbTarget db;
    private static NodeProcess apiNode;
    private static NodeProcess serving1;
    private static NodeProcess serving2;
    private static Api api;
    private static String key;
    private static Platform single;
    private static Api singleApi;
    private static String singleKey;
    /** Inference calls answered 200 by the api node in this class: what must be metered. */
    private static final AtomicLong answered200 = new AtomicLong();

    @BeforeAll
    static void startCluster() throws Exception {
        vertx = Vertx.vertx();
        Path root = Files.createTempDirectory("mm-cluster-test");
        db = TestDatabases.freshDatabase();
        List<Integer> hz = NodeProcess.freePorts(3);
        String members = NodeProcess.members(hz);
        String url = TestDatabases.url(db);
        apiNode = NodeProcess.start("api", "api", root, url, hz.get(0), members, Map.of());
        serving1 = NodeProcess.start("serving-1", "serving", root, url, hz.get(1), members, Map.of());
        serving2 = NodeProcess.start("serving-2", "serving", root, url, hz.get(2), members, Map.of());
        // the single node to compare with, in this JVM, on a database of its own
        single = TestPlatform.startOnFreshDatabase(vertx);
        singleApi = new Api(vertx, single.port());
        singleKey = publishDigits(singleApi, "single");

        api = new Api(vertx, apiNode.httpPort);
        apiNode.awaitReady(api, Duration.ofSeconds(120));
        try (Api s1 = new Api(vertx, serving1.httpPort); Api s2 = new Api(vertx, serving2.httpPort)) {
            serving1.awaitReady(s1, Duration.ofSeconds(120));
            serving2.awaitReady(s2, Duration.ofSeconds(120));
        }
        // both serving nodes advertise before the api node is asked anything
        await("two serving nodes in the api node's placement").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> api.get("/health/ready", null).bodyAsJsonObject().getString("cluster", "").startsWith("2 "));
        key = publishDigits(api, "cluster");
    }

    /** Signs up a publisher, publishes digits_mlp as its private model {@code cluster-digits}; its key. */
    private static String publishDigits(Api client, String org) {
        String owner = accessToken(client.signUp(org + " Org", "owner@" + org + ".test", org + "-password"));
        createModel(client, owner, "cluster-digits", "private", new JsonObject());
        publishVersion(client, owner, "cluster-digits", "1.0.0", "digits_mlp");
        return client.post("/api/v1/api-keys", owner, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
    }

    @AfterAll
    static void stopCluster() throws Exception {
        for (NodeProcess n : new NodeProcess[] {apiNode, serving2, serving1}) {
            if (n != null) {
                n.close();
            }
        }
        if (single != null) {
            singleApi.close();
            TestPlatform.stop(single);
        }
        if (api != null) {
            api.close();
        }
        vertx.close().await(30, TimeUnit.SECONDS);
    }

    @Test
    @Order(1)
    @DisplayName("through the api node, JSON and binary inference answer exactly what a single node answers")
    void sameAnswers() {
        JsonObject example = Publishing.manifest("digits_mlp").getJsonObject("example");
        HttpResponse<Buffer> viaCluster = infer(api, key, example);
        HttpResponse<Buffer> viaSingle = singleApi.post("/v2/models/cluster-digits/infer", singleKey, example);
        assertEquals(200, viaCluster.statusCode(), viaCluster.bodyAsString());
        assertEquals(200, viaSingle.statusCode(), viaSingle.bodyAsString());
        assertEquals(viaSingle.bodyAsJsonObject().getJsonArray("outputs"), viaCluster.bodyAsJsonObject().getJsonArray("outputs"));
        assertNotNull(viaCluster.getHeader("X-Served-By"), "the answer names the serving node");

        Buffer binary = binaryRequest(example);
        HttpResponse<Buffer> binCluster = inferBinary(api, key, binary);
        HttpResponse<Buffer> binSingle = Api.await(singleApi.request(HttpMethod.POST, "/v2/models/cluster-digits/infer", singleKey)
                .putHeader("Content-Type", "application/octet-stream")
                .putHeader("Inference-Header-Content-Length", headerLength(example))
                .sendBuffer(binary));
        assertEquals(200, binCluster.statusCode(), binCluster.bodyAsString());
        assertEquals(200, binSingle.statusCode(), binSingle.bodyAsString());
        int n = Integer.parseInt(binCluster.getHeader("Inference-Header-Content-Length"));
        int m = Integer.parseInt(binSingle.getHeader("Inference-Header-Content-Length"));
        assertEquals(binSingle.body().getBuffer(m, binSingle.body().length()), binCluster.body().getBuffer(n, binCluster.body().length()),
                "the binary outputs are byte for byte the single node's");
        assertEquals(binSingle.body().getBuffer(0, m).toJsonObject().getJsonArray("outputs"),
                binCluster.body().getBuffer(0, n).toJsonObject().getJsonArray("outputs"));
        answered200.addAndGet(2);
    }

    @Test
    @Order(2)
    @DisplayName("calls spread over both serving nodes")
    void spread() {
        JsonObject example = Publishing.manifest("digits_mlp").getJsonObject("example");
        Set<String> servedBy = ConcurrentHashMap.newKeySet();
        await("answers from both serving nodes").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(10)).until(() -> {
            List<Future<HttpResponse<Buffer>>> wave = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                wave.add(api.request(HttpMethod.POST, "/v2/models/cluster-digits/infer", key).sendJsonObject(example));
            }
            Api.await(Future.join(wave).otherwiseEmpty());
            for (Future<HttpResponse<Buffer>> r : wave) {
                if (r.succeeded() && r.result().statusCode() == 200) {
                    answered200.incrementAndGet();
                    servedBy.add(r.result().getHeader("X-Served-By"));
                }
            }
            return servedBy.size() == 2;
        });
    }

    @Test
    @Order(3)
    @DisplayName("kill -9 of a serving node under steady load: only 503 with Retry-After meanwhile, all 200 again within 5 s, metered = answered")
    void killServingNode() throws Exception {
        JsonObject example = Publishing.manifest("digits_mlp").getJsonObject("example");
        record Call(long sentNanos, int status, String retryAfter) {
        }
        List<Call> calls = new CopyOnWriteArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong inFlight = new AtomicLong();
        Promise<Void> drained = Promise.promise();
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            if (!running.get()) {
                if (inFlight.get() == 0) {
                    drained.tryComplete();
                }
                return;
            }
            long sent = System.nanoTime();
            inFlight.incrementAndGet();
            api.request(HttpMethod.POST, "/v2/models/cluster-digits/infer", key).timeout(20_000).sendJsonObject(example)
                    .onComplete(ar -> {
                        calls.add(ar.succeeded() ? new Call(sent, ar.result().statusCode(), ar.result().getHeader("Retry-After"))
                                : new Call(sent, -1, ar.cause().toString()));
                        inFlight.decrementAndGet();
                        vertx.runOnContext(v -> next[0].run());
                    });
        };
        for (int i = 0; i < 8; i++) {
            vertx.runOnContext(v -> next[0].run());
        }
        Thread.sleep(3_000); // steady load before the kill (a fixed phase of the scenario, not a wait for a condition)
        long killed = System.nanoTime();
        serving1.kill();
        Thread.sleep(9_000); // load goes on after the kill
        running.set(false);
        Api.await(drained.future().timeout(30, TimeUnit.SECONDS));

        Map<Integer, Long> byStatus = new TreeMap<>();
        calls.forEach(c -> byStatus.merge(c.status(), 1L, Long::sum));
        System.out.println("ClusterInferenceTest kill -9: " + calls.size() + " calls, by status " + byStatus);
        for (Call c : calls) {
            assertTrue(c.status() == 200 || c.status() == 503, () -> "only 200 and 503 under the kill, got " + c
                    + "; api log:\n" + apiNode.logTail());
            if (c.status() == 503) {
                assertNotNull(c.retryAfter(), "every 503 carries Retry-After");
            }
        }
        long lateFailures = calls.stream().filter(c -> c.sentNanos() - killed > 5_000_000_000L && c.status() != 200).count();
        assertEquals(0, lateFailures, "every call sent 5 s after the kill succeeds on the other node: " + byStatus);
        assertTrue(calls.stream().anyMatch(c -> c.sentNanos() - killed > 5_000_000_000L), "calls were sent after the kill");
        answered200.addAndGet(calls.stream().filter(c -> c.status() == 200).count());
        await("metered calls equal the 200 answers").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertEquals(answered200.get(), Sql.meteredCalls(db)));
    }

    @Test
    @Order(4)
    @DisplayName("a training job accepted by the api node trains there in a job host, and its model serves through a serving node")
    void trainingThroughTheApiNode() throws Exception {
        String publisher = accessToken(api.signUp("Cluster Recipes", "owner@cluster-recipes.test", "recipes-password"));
        createModel(api, publisher, "cluster-mlp", "public", new JsonObject().put("kind", "algorithm")
                .put("task", "tabular-classification").put("algorithm",
                        new JsonObject(Files.readString(Path.of("..", "serving", "fixtures", "recipes", "mlp_classifier.json")))));
        String consumer = accessToken(api.signUp("Cluster Trainer", "owner@cluster-trainer.test", "trainer-password"));
        String plan = Publishing.freePlan(api, publisher, "cluster-mlp").getString("id");
        assertEquals(201, api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", "cluster-mlp")
                .put("planId", plan)).statusCode());
        String sha = Publishing.upload(api, consumer, Files.readAllBytes(Path.of("..", "serving", "fixtures", "datasets", "wine.csv")));
        HttpResponse<Buffer> dataset = api.post("/api/v1/datasets", consumer, new JsonObject().put("uploadSha256", sha)
                .put("name", "wine").put("labelColumn", "label").put("task", "classification"));
        assertEquals(201, dataset.statusCode(), dataset.bodyAsString());
        HttpResponse<Buffer> created = api.post("/api/v1/training-jobs", consumer, new JsonObject().put("algorithm", "cluster-mlp")
                .put("datasetId", dataset.bodyAsJsonObject().getString("id")).put("target", new JsonObject().put("model", "cluster-wine")));
        assertEquals(201, created.statusCode(), created.bodyAsString());
        String id = created.bodyAsJsonObject().getString("id");
        await("the training job ends").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(250))
                .until(() -> !List.of("queued", "running").contains(api.get("/api/v1/training-jobs/" + id, consumer)
                        .bodyAsJsonObject().getString("state")));
        JsonObject job = api.get("/api/v1/training-jobs/" + id, consumer).bodyAsJsonObject();
        assertEquals("succeeded", job.getString("state"), job.encode() + "\napi log:\n" + apiNode.logTail());

        String consumerKey = api.post("/api/v1/api-keys", consumer, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
        String[] row = Files.readAllLines(Path.of("..", "serving", "fixtures", "datasets", "wine.csv")).get(1).split(",");
        JsonArray features = new JsonArray();
        for (int i = 0; i < row.length - 1; i++) {
            features.add(Double.parseDouble(row[i]));
        }
        HttpResponse<Buffer> answer = api.post("/v2/models/cluster-wine/infer", consumerKey, new JsonObject().put("inputs",
                new JsonArray().add(new JsonObject().put("name", "features").put("datatype", "FP32")
                        .put("shape", new JsonArray().add(1).add(features.size())).put("data", features))));
        assertEquals(200, answer.statusCode(), answer.bodyAsString());
        assertNotNull(answer.getHeader("X-Served-By"), "a serving node answered, not the api node");
    }

    private static HttpResponse<Buffer> infer(Api client, String k, JsonObject body) {
        return client.post("/v2/models/cluster-digits/infer", k, body);
    }

    private static HttpResponse<Buffer> inferBinary(Api client, String k, Buffer body) {
        return Api.await(client.request(HttpMethod.POST, "/v2/models/cluster-digits/infer", k)
                .putHeader("Content-Type", "application/octet-stream")
                .putHeader("Inference-Header-Content-Length", headerLength(Publishing.manifest("digits_mlp").getJsonObject("example")))
                .sendBuffer(body));
    }

    private static Buffer binaryHeader(JsonObject example) {
        JsonObject input = example.getJsonArray("inputs").getJsonObject(0);
        int count = input.getJsonArray("data").size();
        return new JsonObject().put("id", "bin")
                .put("inputs", new JsonArray().add(new JsonObject().put("name", input.getString("name"))
                        .put("datatype", "FP32").put("shape", input.getJsonArray("shape"))
                        .put("parameters", new JsonObject().put("binary_data_size", count * 4))))
                .put("outputs", new JsonArray().add(new JsonObject().put("name", "probabilities")
                        .put("parameters", new JsonObject().put("binary_data", true))))
                .toBuffer();
    }

    private static String headerLength(JsonObject example) {
        return Integer.toString(binaryHeader(example).length());
    }

    private static Buffer binaryRequest(JsonObject example) {
        JsonArray data = example.getJsonArray("inputs").getJsonObject(0).getJsonArray("data");
        java.nio.ByteBuffer raw = java.nio.ByteBuffer.allocate(data.size() * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < data.size(); i++) {
            raw.putFloat(((Number) data.getValue(i)).floatValue());
        }
        return binaryHeader(example).appendBytes(raw.array());
    }
}
