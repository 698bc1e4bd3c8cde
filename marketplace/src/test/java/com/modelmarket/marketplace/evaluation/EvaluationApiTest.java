package com.modelmarket.marketplace.evaluation;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.freePlan;

import com.modelmarket.marketplace.support.Publishing;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static com.modelmarket.marketplace.support.Publishing.upload;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Evaluation jobs through the HTTP API only: the demo digits MLP, published by one organisation and
 * subscribed to by another, evaluated on the held-out digits as a CSV dataset. The figures must be
 * exactly what PyTorch and scikit-learn compute for the same rows ({@code make_digits_eval.py}), the
 * rows must go through the batcher, every request must be metered, and nothing of one organisation's
 * evaluation is visible to another.
 */
@StartedPlatform
class EvaluationApiTest {

    static final Path FIXTURES = Path.of("src", "test", "resources", "evaluation");

    private static Api api;
    private static String publisher;
    private static String consumer;
    private static String other;
    private static JsonObject expected;
    private static String dataset;

    @BeforeAll
    static void start(Api client) throws Exception {
        api = client;
        expected = new JsonObject(Files.readString(FIXTURES.resolve("digits_eval_expected.json")));
        publisher = accessToken(api.signUp("Digit Works", "owner@digit-works.test", "publisher-password"));
        createModel(api, publisher, "digits", "public", new JsonObject());
        publishVersion(api, publisher, "digits", "1.0.0", "digits_mlp");
        publishVersion(api, publisher, "digits", "1.1.0", "digits_cnn");
        createModel(api, publisher, "unmeasured", "public", new JsonObject());
        publishVersion(api, publisher, "unmeasured", "1.0.0", "digits_mlp");
        String plan = freePlan(api, publisher, "digits").getString("id");
        String paid = Publishing.plan(api, publisher, "digits", new JsonObject().put("name", "Per call").put("type", "pay_as_you_go")
                .put("currency", "EUR").put("pricePer1000Minor", 50)).getString("id");
        consumer = accessToken(api.signUp("Eval Buyer", "owner@eval-buyer.test", "consumer-password"));
        assertEquals(201, api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", "digits").put("planId", paid))
                .statusCode());
        other = accessToken(api.signUp("Nosy Co", "owner@nosy.test", "nosy-password"));
        assertEquals(201, api.post("/api/v1/subscriptions", other, new JsonObject().put("model", "digits").put("planId", plan))
                .statusCode());
        dataset = dataset(consumer, "held-out digits");
    }

    static String dataset(String token, String name) throws Exception {
        String sha = upload(api, token, Files.readAllBytes(FIXTURES.resolve("digits_eval.csv")));
        HttpResponse<Buffer> r = api.post("/api/v1/datasets", token, new JsonObject().put("uploadSha256", sha).put("name", name)
                .put("labelColumn", "digit").put("task", "classification"));
        assertEquals(201, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject().getString("id");
    }

    static JsonObject evaluate(String token, JsonObject body) {
        JsonObject job = evaluateToEnd(token, body);
        assertEquals("succeeded", job.getString("state"), job.encodePrettily());
        return job;
    }

    /** Starts an evaluation and waits for it to end, however it ends. */
    static JsonObject evaluateToEnd(String token, JsonObject body) {
        HttpResponse<Buffer> r = api.post("/api/v1/evaluations", token, body);
        assertEquals(201, r.statusCode(), r.bodyAsString());
        assertEquals("queued", r.bodyAsJsonObject().getString("state"));
        String id = r.bodyAsJsonObject().getString("id");
        await("evaluation " + id + " ends").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                .until(() -> !List.of("queued", "running").contains(api.get("/api/v1/evaluations/" + id, token)
                        .bodyAsJsonObject().getString("state")));
        return api.get("/api/v1/evaluations/" + id, token).bodyAsJsonObject();
    }

    @Test
    @DisplayName("a subscriber's evaluation of the digits MLP gives PyTorch's accuracy, scikit-learn's figures and a confusion matrix of every row")
    void sameFiguresAsPyTorch() {
        JsonObject job = evaluate(consumer, new JsonObject().put("model", "digits").put("version", "1.0.0").put("datasetId", dataset));
        assertEquals("subscriber", job.getString("ranBy"));
        JsonObject m = job.getJsonObject("result").getJsonObject("metrics");
        assertEquals(expected.getDouble("accuracy"), m.getDouble("accuracy"), 0.0, "accuracy as PyTorch computes it");
        assertEquals(expected.getDouble("macroF1"), m.getDouble("macroF1"), 1e-12);
        assertEquals(expected.getDouble("top3Accuracy"), m.getDouble("topKAccuracy"), 0.0);
        assertEquals(3, m.getInteger("topK"));
        assertEquals(expected.getJsonArray("confusionMatrix"), m.getJsonArray("confusionMatrix"));
        long sum = 0;
        for (Object row : m.getJsonArray("confusionMatrix")) {
            for (Object v : (JsonArray) row) {
                sum += ((Number) v).longValue();
            }
        }
        assertEquals(450, sum, "the confusion matrix counts every row once");
        JsonArray perClass = m.getJsonArray("perClass");
        for (int c = 0; c < 10; c++) {
            assertEquals(expected.getJsonArray("precision").getDouble(c), perClass.getJsonObject(c).getDouble("precision"), 1e-12);
            assertEquals(expected.getJsonArray("recall").getDouble(c), perClass.getJsonObject(c).getDouble("recall"), 1e-12);
        }
    }

    @Test
    @DisplayName("the evaluation's rows go through the batcher (batches above 1) and every request it served is metered under the caller's subscription; on a free plan it takes from the allowance")
    void batchedAndMetered() {
        JsonObject job = evaluate(consumer, new JsonObject().put("model", "digits").put("version", "1.0.0").put("datasetId", dataset));
        JsonObject serving = job.getJsonObject("result").getJsonObject("serving");
        assertEquals(450, serving.getInteger("requests"), serving.encode());
        assertTrue(serving.getJsonObject("batchSizes").getInteger("max") > 1, "the batcher merged requests: " + serving.encode());
        long histogramRequests = serving.getJsonObject("batchSizes").getJsonObject("histogram").stream()
                .mapToLong(e -> ((Number) e.getValue()).longValue()).sum();
        assertEquals(450, histogramRequests);
        assertTrue(serving.getJsonObject("latencyMillis").getDouble("p99") >= serving.getJsonObject("latencyMillis").getDouble("p50"));

        // metered = served: the usage of the version grows by exactly the requests the job reports, all on the caller's plan
        await("usage of the evaluation is counted").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() ->
                evaluationCalls() % 450 == 0 && evaluationCalls() > 0);
        long calls = evaluationCalls();
        evaluate(consumer, new JsonObject().put("model", "digits").put("version", "1.0.0").put("datasetId", dataset));
        await("the second evaluation is counted too").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> evaluationCalls() == calls + 450);

        // on the free plan, an evaluation is calls like any other: 450 of the allowance of 1000, then refused past it
        String freeDataset;
        try {
            freeDataset = dataset(other, "other's digits");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        evaluate(other, new JsonObject().put("model", "digits").put("version", "1.0.0").put("datasetId", freeDataset));
        await("the free evaluation is counted against the allowance").atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(200)).until(() -> freeUsed() == 450);
        JsonObject second = evaluateToEnd(other, new JsonObject().put("model", "digits").put("version", "1.0.0")
                .put("compareWith", "1.1.0").put("datasetId", freeDataset));
        assertEquals("failed", second.getString("state"), second.encode());
        assertTrue(second.getString("reason", "").contains("calls for this month are used up"), second.encode());
        await("the cap holds exactly").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> freeUsed() == 1000);
    }

    private static long freeUsed() {
        return api.get("/api/v1/quotas", other).bodyAsJsonObject().getJsonArray("items").getJsonObject(0).getLong("used");
    }

    /** The consumer's metered calls of digits 1.0.0 on its plan without a key: its evaluations. */
    private static long evaluationCalls() {
        JsonArray items = api.get("/api/v1/usage/summary", consumer).bodyAsJsonObject().getJsonArray("items");
        return items.stream().map(JsonObject.class::cast)
                .filter(i -> "digits".equals(i.getString("model")) && "1.0.0".equals(i.getString("version"))
                        && i.getValue("plan") != null && i.getValue("apiKeyId") == null)
                .mapToLong(i -> i.getLong("calls")).sum();
    }

    @Test
    @DisplayName("another organisation sees neither the evaluation nor the dataset (404), nor can it evaluate on that dataset")
    void privateToTheTenant() {
        JsonObject job = evaluate(consumer, new JsonObject().put("model", "digits").put("datasetId", dataset));
        String id = job.getString("id");
        assertProblem(api.get("/api/v1/evaluations/" + id, other), 404);
        assertProblem(api.post("/api/v1/evaluations/" + id + "/cancel", other, null), 404);
        assertProblem(api.get("/api/v1/datasets/" + dataset, other), 404);
        JsonObject refused = assertProblem(api.post("/api/v1/evaluations", other, new JsonObject().put("model", "digits")
                .put("datasetId", dataset)), 404);
        assertEquals("/datasetId", refused.getString("pointer"), refused.encode());
        assertFalse(api.get("/api/v1/evaluations", other).bodyAsString().contains(id));
        assertTrue(api.get("/api/v1/evaluations", consumer).bodyAsString().contains(id));
        assertProblem(api.post("/api/v1/evaluations/" + id + "/cancel", consumer, null), 409);
    }

    @Test
    @DisplayName("a mapping that names an unknown column, or a model the caller may not call, is refused naming the field")
    void refusals() {
        JsonObject bad = assertProblem(api.post("/api/v1/evaluations", consumer, new JsonObject().put("model", "digits")
                .put("version", "1.0.0").put("datasetId", dataset).put("mapping", new JsonObject().put("inputs", new JsonObject()
                        .put("pixels", new JsonArray().add("digit"))))), 400);
        assertEquals("/mapping/inputs/pixels/0", bad.getJsonArray("errors").getJsonObject(0).getString("pointer"), bad.encode());
        JsonObject width = assertProblem(api.post("/api/v1/evaluations", consumer, new JsonObject().put("model", "digits")
                .put("version", "1.0.0").put("datasetId", dataset).put("mapping", new JsonObject().put("inputs", new JsonObject()
                        .put("pixels", new JsonArray().add("p0").add("p1"))))), 400);
        assertEquals("/mapping/inputs/pixels", width.getJsonArray("errors").getJsonObject(0).getString("pointer"));
        assertProblem(api.post("/api/v1/evaluations", consumer, new JsonObject().put("model", "unmeasured")
                .put("datasetId", dataset)), 403);
        assertProblem(api.post("/api/v1/evaluations", consumer, new JsonObject().put("model", "digits")
                .put("datasetId", dataset).put("reference", true)), 403);
    }

    @Test
    @DisplayName("comparing two versions on one dataset gives both figures, their deltas and the rows where they disagree")
    void compareVersions() {
        JsonObject job = evaluate(consumer, new JsonObject().put("model", "digits").put("version", "1.0.0")
                .put("compareWith", "1.1.0").put("datasetId", dataset));
        JsonObject result = job.getJsonObject("result");
        JsonObject comparison = result.getJsonObject("comparison");
        assertEquals("1.1.0", comparison.getString("version"));
        double base = result.getJsonObject("metrics").getDouble("accuracy");
        double cnn = comparison.getJsonObject("metrics").getDouble("accuracy");
        assertEquals(cnn - base, comparison.getJsonObject("deltas").getDouble("accuracy"), 1e-12);
        JsonObject disagreements = comparison.getJsonObject("disagreements");
        long count = disagreements.getLong("count");
        JsonArray rows = disagreements.getJsonArray("rows");
        assertTrue(count >= 1 && count < 450, "the two models disagree on some rows: " + disagreements.encode());
        assertEquals(Math.min(count, 20), rows.size());
        JsonArray torch = expected.getJsonArray("torch_predictions");
        for (Object o : rows) {
            JsonObject row = (JsonObject) o;
            assertEquals(Integer.toString(torch.getInteger(row.getInteger("row"))), row.getString("base"),
                    "the MLP's prediction on a disagreeing row is PyTorch's: " + row.encode());
            assertFalse(row.getString("base").equals(row.getString("other")));
        }
    }

    @Test
    @DisplayName("the publisher's reference evaluation shows on the card as measured by the platform, and the catalog sorts by it")
    void referenceMeasurementOnTheCard() throws Exception {
        String reference = dataset(publisher, "digits reference set");
        JsonObject job = evaluate(publisher, new JsonObject().put("model", "digits").put("version", "1.1.0")
                .put("datasetId", reference).put("reference", true));
        assertEquals("publisher", job.getString("ranBy"));
        JsonObject card = api.get("/api/v1/models/digits", null).bodyAsJsonObject();
        JsonObject latest = card.getJsonArray("versions").stream().map(JsonObject.class::cast)
                .filter(v -> "1.1.0".equals(v.getString("version"))).findFirst().orElseThrow();
        JsonObject measured = latest.getJsonArray("platformMeasured").getJsonObject(0);
        assertEquals("platform", measured.getString("measuredBy"));
        assertEquals("digits reference set", measured.getJsonObject("dataset").getString("name"));
        assertEquals(450, measured.getJsonObject("dataset").getInteger("rows"));
        assertEquals(job.getJsonObject("result").getJsonObject("metrics").getDouble("accuracy"),
                measured.getJsonObject("metrics").getDouble("accuracy"));
        JsonObject older = card.getJsonArray("versions").stream().map(JsonObject.class::cast)
                .filter(v -> "1.0.0".equals(v.getString("version"))).findFirst().orElseThrow();
        assertTrue(older.getJsonArray("platformMeasured").isEmpty(), "a subscriber's private evaluation is not on the card");

        JsonArray sorted = api.get("/api/v1/catalog?sort=metric:accuracy", null).bodyAsJsonObject().getJsonArray("items");
        assertEquals(1, sorted.size(), "only models measured on a reference set: " + sorted.encode());
        assertEquals("digits", sorted.getJsonObject(0).getString("slug"));
        assertEquals(measured.getJsonObject("metrics").getDouble("accuracy"),
                sorted.getJsonObject(0).getJsonObject("measured").getDouble("accuracy"));
        assertProblem(api.get("/api/v1/catalog?sort=metric:nonsense", null), 400);
        // filtered by the measurement: no worse than a bound (at least, for accuracy)
        double accuracy = measured.getJsonObject("metrics").getDouble("accuracy");
        assertEquals(1, api.get("/api/v1/catalog?sort=metric:accuracy&minMetric=" + (accuracy - 0.01), null).bodyAsJsonObject()
                .getJsonArray("items").size());
        assertEquals(0, api.get("/api/v1/catalog?sort=metric:accuracy&minMetric=" + Math.min(1.0, accuracy + 0.001), null)
                .bodyAsJsonObject().getJsonArray("items").size());
        assertEquals(0, api.get("/api/v1/catalog?sort=metric:mae&minMetric=100", null).bodyAsJsonObject().getJsonArray("items").size(),
                "a classifier has no MAE");
        assertProblem(api.get("/api/v1/catalog?minMetric=0.5", null), 400);
        assertProblem(api.get("/api/v1/catalog?sort=metric:accuracy&minMetric=high", null), 400);
    }
}
