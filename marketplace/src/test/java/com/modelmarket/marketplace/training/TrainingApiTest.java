package com.modelmarket.marketplace.training;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.freePlan;
import static com.modelmarket.marketplace.support.Publishing.upload;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The training journey through the HTTP API only: a publisher's algorithm (a recipe), a consumer's
 * CSV as a dataset, a job, and the private model it makes, served by {@code /v2} with the
 * consumer's key. The held-out rows the platform measured on are inferred again here, and the
 * accuracy it reported must be exactly what those answers give.
 */
@StartedPlatform
@Tag("slow")
class TrainingApiTest {

    private static final Path DATASETS = Path.of("..", "serving", "fixtures", "datasets");
    private static final Path RECIPES = Path.of("..", "serving", "fixtures", "recipes");

    private static Api api;
    private static DbTarget db;
    private static String consumer;
    private static String consumerKey;
    private static String other;
    private static String otherKey;

    @BeforeAll
    static void start(Platform platform, Api client) throws Exception {
        api = client;
        db = platform.services().database().target();
        String publisher = accessToken(api.signUp("Recipe Labs", "owner@recipes.test", "publisher-password"));
        algorithm(publisher, "mlp-classifier", "mlp_classifier", "tabular-classification");
        algorithm(publisher, "mlp-regressor", "mlp_regressor", "regression");
        consumer = accessToken(api.signUp("Trainer Co", "owner@trainer.test", "consumer-password"));
        consumerKey = key(consumer);
        for (String algorithm : List.of("mlp-classifier", "mlp-regressor")) {
            String plan = freePlan(api, publisher, algorithm).getString("id");
            HttpResponse<Buffer> sub = api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", algorithm).put("planId", plan));
            assertEquals(201, sub.statusCode(), sub.bodyAsString());
        }
        other = accessToken(api.signUp("Other Co", "owner@other-trainer.test", "other-password"));
        otherKey = key(other);
        String otherPlan = api.get("/api/v1/models/mlp-classifier/plans", other).bodyAsJsonObject().getJsonArray("items")
                .getJsonObject(0).getString("id");
        assertEquals(201, api.post("/api/v1/subscriptions", other, new JsonObject().put("model", "mlp-classifier")
                .put("planId", otherPlan)).statusCode());
    }

    private static void algorithm(String publisher, String slug, String recipe, String task) throws Exception {
        createModel(api, publisher, slug, "public", new JsonObject().put("kind", "algorithm").put("task", task)
                .put("algorithm", new JsonObject(Files.readString(RECIPES.resolve(recipe + ".json")))));
    }

    private static String key(String token) {
        return api.post("/api/v1/api-keys", token, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
    }

    private static JsonObject dataset(String token, String file, String label, String task) throws Exception {
        String sha = upload(api, token, Files.readAllBytes(DATASETS.resolve(file)));
        HttpResponse<Buffer> r = api.post("/api/v1/datasets", token, new JsonObject().put("uploadSha256", sha)
                .put("name", file).put("labelColumn", label).put("task", task));
        assertEquals(201, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    private static JsonObject train(String token, JsonObject body) {
        HttpResponse<Buffer> r = api.post("/api/v1/training-jobs", token, body);
        assertEquals(201, r.statusCode(), r.bodyAsString());
        String id = r.bodyAsJsonObject().getString("id");
        await("job " + id + " ends").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(250))
                .until(() -> !List.of("queued", "running").contains(api.get("/api/v1/training-jobs/" + id, token)
                        .bodyAsJsonObject().getString("state")));
        return api.get("/api/v1/training-jobs/" + id, token).bodyAsJsonObject();
    }

    /** The CSV's data rows, split into cells. */
    private static List<String[]> rows(String file) throws Exception {
        List<String> lines = Files.readAllLines(DATASETS.resolve(file));
        List<String[]> out = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (!line.isBlank()) {
                out.add(line.split(",", -1));
            }
        }
        return out;
    }

    private static JsonObject features(String[] row, int labelIndex) {
        JsonArray data = new JsonArray();
        for (int i = 0; i < row.length; i++) {
            if (i != labelIndex) {
                data.add(Double.parseDouble(row[i]));
            }
        }
        return new JsonObject().put("inputs", new JsonArray().add(new JsonObject().put("name", "features")
                .put("datatype", "FP32").put("shape", new JsonArray().add(1).add(data.size())).put("data", data)));
    }

    private static int argmax(JsonArray values) {
        int best = 0;
        for (int i = 1; i < values.size(); i++) {
            if (values.getDouble(i) > values.getDouble(best)) {
                best = i;
            }
        }
        return best;
    }

    @Test
    @DisplayName("breast cancer: a served private model whose held-out accuracy (>= 0.93) is exactly what /v2 answers on those rows")
    void breastCancerJourney() throws Exception {
        JsonObject data = dataset(consumer, "breast_cancer.csv", "label", "classification");
        assertEquals(569, data.getInteger("rows"));
        assertEquals(2, data.getJsonArray("classes").size(), data.encode());
        assertEquals(30, data.getJsonArray("features").size());
        assertEquals(5, data.getJsonObject("preview").getJsonArray("rows").size());

        JsonObject job = train(consumer, new JsonObject().put("algorithm", "mlp-classifier").put("datasetId", data.getString("id"))
                .put("target", new JsonObject().put("model", "my-cancer")));
        assertEquals("succeeded", job.getString("state"), job.encode());
        JsonObject result = job.getJsonObject("result");
        double accuracy = result.getJsonObject("metrics").getDouble("accuracy");
        assertTrue(accuracy >= 0.93, "held-out accuracy " + accuracy);
        assertEquals("1.0.0", result.getString("version"));
        assertTrue(job.getJsonArray("curve").size() > 0, "the curve was written per epoch");

        // /v2 with the tenant's own key, on exactly the held-out rows the platform measured
        List<String[]> rows = rows("breast_cancer.csv");
        int label = rows.get(0).length - 1;
        JsonArray labels = result.getJsonObject("metrics").getJsonArray("labels");
        JsonArray heldOut = result.getJsonObject("split").getJsonArray("heldOutRows");
        int correct = 0;
        for (Object o : heldOut) {
            String[] row = rows.get((Integer) o);
            HttpResponse<Buffer> r = api.post("/v2/models/my-cancer/infer", consumerKey, features(row, label));
            assertEquals(200, r.statusCode(), r.bodyAsString());
            JsonArray p = r.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
            correct += labels.getString(argmax(p)).equals(row[label]) ? 1 : 0;
        }
        assertEquals(accuracy, correct / (double) heldOut.size(), 1e-12, "the reported accuracy counts these answers");

        // the card shows what the platform measured
        JsonObject page = api.get("/api/v1/models/my-cancer", consumer).bodyAsJsonObject();
        assertEquals("private", page.getString("visibility"));
        JsonObject training = page.getJsonArray("versions").getJsonObject(0).getJsonObject("manifest").getJsonObject("training");
        assertNotNull(training, page.encode());
        assertEquals(accuracy, training.getJsonObject("metrics").getDouble("accuracy"));

        // another tenant sees none of it
        assertProblem(api.get("/api/v1/datasets/" + data.getString("id"), other), 404);
        assertProblem(api.get("/api/v1/training-jobs/" + job.getString("id"), other), 404);
        assertProblem(api.get("/api/v1/training-jobs/" + job.getString("id") + "/events", other), 404);
        assertProblem(api.get("/api/v1/models/my-cancer", other), 404);
        assertProblem(api.post("/v2/models/my-cancer/infer", otherKey, features(rows.get(0), label)), 404);
        assertEquals(0, api.get("/api/v1/datasets", other).bodyAsJsonObject().getJsonArray("items").size());
        assertEquals(0, api.get("/api/v1/training-jobs", other).bodyAsJsonObject().getJsonArray("items").size());
        // nor can it train on the dataset, although it may use the algorithm
        JsonObject notFound = assertProblem(api.post("/api/v1/training-jobs", other, new JsonObject().put("algorithm", "mlp-classifier")
                .put("datasetId", data.getString("id")).put("target", new JsonObject().put("model", "stolen"))), 404);
        assertEquals("/datasetId", notFound.getString("pointer"), notFound.encode());
    }

    @Test
    @DisplayName("diabetes: the same seed twice gives the same metrics; retraining with more rows makes 1.1.0 (R² >= 0.35), latest moves, rollback serves the old predictions")
    void regressionDeterministicRetrainRollback() throws Exception {
        List<String> lines = Files.readAllLines(DATASETS.resolve("diabetes.csv"));
        String fewer = String.join("\n", lines.subList(0, 301)) + "\n"; // the header and the first 300 rows
        String sha = upload(api, consumer, fewer.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        HttpResponse<Buffer> made = api.post("/api/v1/datasets", consumer, new JsonObject().put("uploadSha256", sha)
                .put("name", "diabetes, 300 rows").put("labelColumn", "target").put("task", "regression"));
        assertEquals(201, made.statusCode(), made.bodyAsString());
        String small = made.bodyAsJsonObject().getString("id");
        JsonObject body = new JsonObject().put("algorithm", "mlp-regressor").put("datasetId", small)
                .put("target", new JsonObject().put("model", "my-diabetes"));
        JsonObject first = train(consumer, body);
        assertEquals("succeeded", first.getString("state"), first.encode());
        assertEquals("1.0.0", first.getJsonObject("result").getString("version"));
        JsonObject twin = train(consumer, body.copy().put("target", new JsonObject().put("model", "my-diabetes-twin")));
        assertEquals(first.getJsonObject("result").getJsonObject("metrics"), twin.getJsonObject("result").getJsonObject("metrics"),
                "same data, recipe and seed: same metrics");

        JsonObject all = dataset(consumer, "diabetes.csv", "target", "regression");
        JsonObject second = train(consumer, body.copy().put("datasetId", all.getString("id"))
                .put("target", new JsonObject().put("model", "my-diabetes")));
        assertEquals("succeeded", second.getString("state"), second.encode());
        assertEquals("1.1.0", second.getJsonObject("result").getString("version"), "a new version of the same model");
        double r2 = second.getJsonObject("result").getJsonObject("metrics").getDouble("r2");
        assertTrue(r2 >= 0.35, "R² " + r2);
        assertEquals("1.1.0", api.get("/api/v1/models/my-diabetes", consumer).bodyAsJsonObject().getJsonObject("aliases")
                .getString("latest"));

        List<String[]> rows = rows("diabetes.csv");
        JsonObject request = features(rows.get(400), rows.get(0).length - 1);
        double onNew = value(api.post("/v2/models/my-diabetes/infer", consumerKey, request));
        double onOld = value(api.post("/v2/models/my-diabetes/versions/1.0.0/infer", consumerKey, request));
        assertTrue(onNew != onOld, "the two versions were trained on different rows: " + onNew + " " + onOld);
        assertEquals(200, api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/my-diabetes/aliases/latest", consumer,
                new JsonObject().put("version", "1.0.0")).statusCode());
        assertEquals(onOld, value(api.post("/v2/models/my-diabetes/infer", consumerKey, request)), "rolled back to 1.0.0");
    }

    @Test
    @DisplayName("a retrain that the model's publish gate refuses fails the job with the figures and leaves no version; latest stays")
    void gatedRetrain() throws Exception {
        JsonObject data = dataset(consumer, "breast_cancer.csv", "label", "classification");
        JsonObject body = new JsonObject().put("algorithm", "mlp-classifier").put("datasetId", data.getString("id"))
                .put("target", new JsonObject().put("model", "gated-screening"));
        JsonObject first = train(consumer, body);
        assertEquals("succeeded", first.getString("state"), first.encode());
        HttpResponse<Buffer> gate = api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/gated-screening/gates", consumer,
                new JsonObject().put("metrics", new io.vertx.core.json.JsonArray().add(new JsonObject().put("metric", "accuracy")
                        .put("datasetId", data.getString("id")).put("maxDrop", 0.01))));
        assertEquals(200, gate.statusCode(), gate.bodyAsString());

        // one epoch at the smallest learning rate: barely trained, far worse on the same rows
        JsonObject worse = train(consumer, body.copy().put("hyperparameters", new JsonObject().put("epochs", 1)
                .put("learningRate", 0.00001)));
        assertEquals("failed", worse.getString("state"), worse.encode());
        assertTrue(worse.getString("reason").startsWith("a publish gate refused the trained version")
                && worse.getString("reason").contains("accuracy"), worse.getString("reason"));
        JsonObject model = api.get("/api/v1/models/gated-screening", consumer).bodyAsJsonObject();
        assertEquals(1, model.getJsonArray("versions").size(), "no 1.1.0 left behind: " + model.encode());
        assertEquals("1.0.0", model.getJsonObject("aliases").getString("latest"));
        assertEquals(0, Sql.count(db, "SELECT count(*) FROM model_versions v JOIN models m ON m.id = v.model_id "
                + "WHERE m.slug = 'gated-screening' AND v.version = '1.1.0'"));
    }

    private static double value(HttpResponse<Buffer> r) {
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getDouble(0);
    }

    @Test
    @DisplayName("bad CSVs and bad hyperparameters are refused naming the row/column or field; nothing is created")
    void refusals() throws Exception {
        long datasets = Sql.count(db, "SELECT count(*) FROM datasets");
        long jobs = Sql.count(db, "SELECT count(*) FROM training_jobs");
        for (String bad : List.of("bad_column_count.csv", "bad_non_numeric.csv", "bad_nan.csv", "bad_inf.csv", "bad_empty.csv",
                "bad_header_only.csv")) {
            String sha = upload(api, consumer, Files.readAllBytes(DATASETS.resolve(bad)));
            JsonObject problem = assertProblem(api.post("/api/v1/datasets", consumer, new JsonObject().put("uploadSha256", sha)
                    .put("name", bad).put("labelColumn", "label").put("task", "classification")), 422);
            assertEquals("dataset-refused", problem.getString("type").replaceAll(".*/", ""), problem.encode());
            assertNotNull(problem.getString("reason"), problem.encode());
            if (!bad.startsWith("bad_empty") && !bad.startsWith("bad_header")) {
                assertTrue(problem.containsKey("row") || problem.containsKey("line"), bad + ": " + problem.encode());
            }
        }
        String sha = upload(api, consumer, Files.readAllBytes(DATASETS.resolve("wine.csv")));
        JsonObject unknownColumn = assertProblem(api.post("/api/v1/datasets", consumer, new JsonObject().put("uploadSha256", sha)
                .put("name", "wine").put("labelColumn", "no-such-column").put("task", "classification")), 422);
        assertEquals("no-such-column", unknownColumn.getString("column"), unknownColumn.encode());
        assertProblem(api.post("/api/v1/datasets", consumer, new JsonObject().put("uploadSha256", "0".repeat(64))
                .put("name", "x").put("labelColumn", "label").put("task", "classification")), 404);
        assertEquals(datasets, Sql.count(db, "SELECT count(*) FROM datasets"), "no dataset from a refused file");

        JsonObject wine = dataset(consumer, "wine.csv", "label", "classification");
        JsonObject base = new JsonObject().put("algorithm", "mlp-classifier").put("datasetId", wine.getString("id"))
                .put("target", new JsonObject().put("model", "my-wine"));
        JsonObject tooMany = assertProblem(api.post("/api/v1/training-jobs", consumer,
                base.copy().put("hyperparameters", new JsonObject().put("epochs", 100_000))), 400);
        assertTrue(tooMany.getString("detail").startsWith("/hyperparameters/epochs"), tooMany.encode());
        assertProblem(api.post("/api/v1/training-jobs", consumer,
                base.copy().put("hyperparameters", new JsonObject().put("noSuchKnob", 1))), 400);
        assertProblem(api.post("/api/v1/training-jobs", consumer, base.copy().put("algorithm", "mlp-regressor")), 400);
        assertProblem(api.post("/api/v1/training-jobs", consumer,
                base.copy().put("target", new JsonObject().put("model", "Not A Slug"))), 400);
        assertEquals(jobs, Sql.count(db, "SELECT count(*) FROM training_jobs"), "no job from a refused request");

        // an upload cannot pass for a trained model: that kind is made only by training jobs
        createModel(api, consumer, "not-really-trained", "private", new JsonObject());
        String pt = upload(api, consumer, com.modelmarket.marketplace.support.Publishing.fixtureBytes("digits_mlp.pt"));
        JsonObject kind = assertProblem(api.post("/api/v1/models/not-really-trained/versions", consumer, new JsonObject()
                .put("version", "1.0.0").put("artifactSha256", pt)
                .put("manifest", com.modelmarket.marketplace.support.Publishing.manifest("digits_mlp").put("artifact", "trained-model"))), 400);
        assertTrue(kind.getString("detail").startsWith("/manifest/artifact"), kind.encode());
    }

    @Test
    @DisplayName("fine-tuning a publisher's TorchScript on a tenant's rows gives a new TorchScript version that validates, serves and measures better")
    void fineTuneTorchScript() throws Exception {
        String publisher = accessToken(api.signUp("Tunable Labs", "owner@tunable.test", "tunable-password"));
        createModel(api, publisher, "bc-base", "private", new JsonObject().put("task", "tabular-classification"));
        com.modelmarket.marketplace.support.Publishing.publishVersion(api, publisher, "bc-base", "1.0.0", "breast_cancer_mlp");
        JsonObject spec = new JsonObject().put("task", "classification")
                .put("fineTune", new JsonObject().put("model", "bc-base").put("version", "1.0.0"))
                .put("hyperparameters", new JsonObject()
                        .put("epochs", new JsonObject().put("type", "int").put("default", 10).put("min", 1).put("max", 100))
                        .put("learningRate", new JsonObject().put("type", "double").put("default", 0.001).put("min", 0.00001).put("max", 0.1)));
        createModel(api, publisher, "bc-finetune", "public", new JsonObject().put("kind", "algorithm")
                .put("task", "tabular-classification").put("algorithm", spec));
        assertProblem(api.post("/api/v1/models", publisher, new JsonObject().put("slug", "bad-finetune").put("name", "x")
                .put("kind", "algorithm").put("task", "tabular-classification").put("visibility", "public")
                .put("algorithm", spec.copy().put("fineTune", new JsonObject().put("model", "bc-base")))), 400);
        String plan = freePlan(api, publisher, "bc-finetune").getString("id");
        assertEquals(201, api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", "bc-finetune")
                .put("planId", plan)).statusCode());
        JsonObject data = dataset(consumer, "breast_cancer.csv", "label", "classification");
        JsonObject wine = dataset(consumer, "wine.csv", "label", "classification");
        assertProblem(api.post("/api/v1/training-jobs", consumer, new JsonObject().put("algorithm", "bc-finetune")
                .put("datasetId", wine.getString("id")).put("target", new JsonObject().put("model", "my-tuned-wine"))), 400);
        assertProblem(api.post("/api/v1/training-jobs", consumer, new JsonObject().put("algorithm", "bc-finetune")
                .put("datasetId", data.getString("id")).put("hyperparameters", new JsonObject().put("epochs", 0))
                .put("target", new JsonObject().put("model", "my-tuned"))), 400);

        JsonObject job = train(consumer, new JsonObject().put("algorithm", "bc-finetune").put("datasetId", data.getString("id"))
                .put("hyperparameters", new JsonObject().put("epochs", 15)).put("target", new JsonObject().put("model", "my-tuned")));
        assertEquals("succeeded", job.getString("state"), job.encode());
        JsonObject result = job.getJsonObject("result");
        double tuned = result.getJsonObject("metrics").getDouble("accuracy");
        double base = result.getJsonObject("baseMetrics").getDouble("accuracy");
        assertTrue(tuned >= base && tuned >= 0.9, "fine-tuned " + tuned + " against the base model's " + base);

        JsonObject page = api.get("/api/v1/models/my-tuned", consumer).bodyAsJsonObject();
        JsonObject manifest = page.getJsonArray("versions").getJsonObject(0).getJsonObject("manifest");
        assertEquals(null, manifest.getString("artifact"), "a TorchScript version, validated like an upload: " + manifest.encode());
        List<String[]> rows = rows("breast_cancer.csv");
        int label = rows.get(0).length - 1;
        JsonArray labels = result.getJsonObject("metrics").getJsonArray("labels");
        int correct = 0;
        JsonArray heldOut = result.getJsonObject("split").getJsonArray("heldOutRows");
        for (Object o : heldOut) {
            String[] row = rows.get((Integer) o);
            HttpResponse<Buffer> r = api.post("/v2/models/my-tuned/infer", consumerKey, features(row, label));
            assertEquals(200, r.statusCode(), r.bodyAsString());
            correct += labels.getString(argmax(r.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data")))
                    .equals(row[label]) ? 1 : 0;
        }
        assertEquals(tuned, correct / (double) heldOut.size(), 1e-9, "the reported accuracy counts the served answers");
        assertProblem(api.get("/api/v1/models/my-tuned", other), 404);
    }

    @Test
    @DisplayName("wine >= 0.90; a cancelled job ends cancelled and leaves no model version")
    void wineAndCancel() throws Exception {
        JsonObject wine = dataset(consumer, "wine.csv", "label", "classification");
        JsonObject ok = train(consumer, new JsonObject().put("algorithm", "mlp-classifier").put("datasetId", wine.getString("id"))
                .put("target", new JsonObject().put("model", "my-wine-ok")));
        assertEquals("succeeded", ok.getString("state"), ok.encode());
        assertTrue(ok.getJsonObject("result").getJsonObject("metrics").getDouble("accuracy") >= 0.90, ok.encode());

        HttpResponse<Buffer> r = api.post("/api/v1/training-jobs", consumer, new JsonObject().put("algorithm", "mlp-classifier")
                .put("datasetId", wine.getString("id")).put("hyperparameters", new JsonObject().put("epochs", 500)
                        .put("batchSize", 1).put("earlyStoppingPatience", 0))
                .put("target", new JsonObject().put("model", "my-wine-cancelled")));
        assertEquals(201, r.statusCode(), r.bodyAsString());
        String id = r.bodyAsJsonObject().getString("id");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                api.get("/api/v1/training-jobs/" + id, consumer).bodyAsJsonObject().getString("state").equals("running"));
        long asked = System.nanoTime();
        assertEquals(202, api.post("/api/v1/training-jobs/" + id + "/cancel", consumer, null).statusCode());
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() ->
                api.get("/api/v1/training-jobs/" + id, consumer).bodyAsJsonObject().getString("state").equals("cancelled"));
        System.out.println("TrainingApiTest cancel took " + (System.nanoTime() - asked) / 1_000_000 + " ms");
        JsonObject cancelled = api.get("/api/v1/training-jobs/" + id, consumer).bodyAsJsonObject();
        assertEquals(null, cancelled.getString("versionId"), cancelled.encode());
        assertProblem(api.get("/api/v1/models/my-wine-cancelled", consumer), 404);
        assertProblem(api.post("/api/v1/training-jobs/" + id + "/cancel", consumer, null), 409);
    }
}
