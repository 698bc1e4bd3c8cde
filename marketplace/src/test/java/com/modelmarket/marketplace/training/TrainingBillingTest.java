package com.modelmarket.marketplace.training;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.plan;
import static com.modelmarket.marketplace.support.Publishing.upload;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.TestDatabases;
import com.modelmarket.marketplace.support.TestPlatform;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training is billed: a job that succeeds under an algorithm's pay-as-you-go plan is metered once by
 * its id and priced on the consumer's draft invoice (per job and per minute of compute) and in the
 * publisher's earnings, the same after a restart; a free plan's monthly training minutes cap jobs.
 */
@ExtendWith(VertxExtension.class)
@Tag("slow")
class TrainingBillingTest {

    private static final Path DATASETS = Path.of("..", "serving", "fixtures", "datasets");
    private static final Path RECIPES = Path.of("..", "serving", "fixtures", "recipes");

    private static JsonObject line(Api api, String token, String subscription) {
        JsonArray invoices = api.get("/api/v1/invoices", token).bodyAsJsonObject().getJsonArray("items");
        for (Object o : invoices) {
            for (Object l : ((JsonObject) o).getJsonArray("lines")) {
                if (subscription.equals(((JsonObject) l).getString("subscriptionId"))) {
                    return (JsonObject) l;
                }
            }
        }
        throw new AssertionError("no invoice line for " + subscription + ": " + invoices.encode());
    }

    @Test
    @DisplayName("a succeeded job is metered once and priced per job and minute on the draft invoice and in earnings, also after a restart")
    void jobsAreBilled(Vertx vertx, @TempDir Path dir) throws Exception {
        DbTarget db = TestDatabases.freshDatabase();
        Map<String, String> overrides = new HashMap<>(TestPlatform.baseOverrides(dir.resolve("data")));
        overrides.put("db.url", TestDatabases.url(db));
        String consumer;
        String subscription;
        JsonObject billed;
        Platform first = TestPlatform.start(vertx, overrides);
        try (Api api = new Api(vertx, first.port())) {
            String publisher = accessToken(api.signUp("Billing Recipes", "owner@billing-recipes.test", "publisher-password"));
            createModel(api, publisher, "billed-logistic", "public", new JsonObject().put("kind", "algorithm")
                    .put("task", "tabular-classification")
                    .put("algorithm", new JsonObject(Files.readString(RECIPES.resolve("logistic_regression.json")))));
            String payg = plan(api, publisher, "billed-logistic", new JsonObject().put("name", "Per training").put("type", "pay_as_you_go")
                    .put("currency", "EUR").put("trainingPerJobMinor", 100).put("trainingPerMinuteMinor", 6000)).getString("id");
            String free = plan(api, publisher, "billed-logistic", new JsonObject().put("name", "Free").put("type", "free")
                    .put("currency", "EUR").put("includedCalls", 1).put("includedTrainingMinutes", 1)).getString("id");
            assertProblem(api.post("/api/v1/models/billed-logistic/plans", publisher, new JsonObject().put("name", "Bad")
                    .put("type", "free").put("currency", "EUR").put("includedCalls", 1).put("trainingPerJobMinor", 5)), 400);
            JsonObject shortJobs = plan(api, publisher, "billed-logistic", new JsonObject().put("name", "Short jobs")
                    .put("type", "pay_as_you_go").put("currency", "EUR").put("trainingPerJobMinor", 100)
                    .put("trainingMaxJobSeconds", 2));
            assertEquals(2, shortJobs.getLong("trainingMaxJobSeconds"), shortJobs.encode());
            JsonObject negative = assertProblem(api.post("/api/v1/models/billed-logistic/plans", publisher, new JsonObject()
                    .put("name", "Bad limit").put("type", "pay_as_you_go").put("currency", "EUR").put("trainingPerJobMinor", 1)
                    .put("trainingMaxJobSeconds", -1)), 400);
            assertTrue(negative.encode().contains("trainingMaxJobSeconds"), negative.encode());

            consumer = accessToken(api.signUp("Billed Trainer", "owner@billed-trainer.test", "consumer-password"));
            subscription = api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", "billed-logistic")
                    .put("planId", payg)).bodyAsJsonObject().getString("id");
            String sha = upload(api, consumer, Files.readAllBytes(DATASETS.resolve("wine.csv")));
            String dataset = api.post("/api/v1/datasets", consumer, new JsonObject().put("uploadSha256", sha).put("name", "wine")
                    .put("labelColumn", "label").put("task", "classification")).bodyAsJsonObject().getString("id");
            HttpResponse<Buffer> created = api.post("/api/v1/training-jobs", consumer, new JsonObject().put("algorithm", "billed-logistic")
                    .put("datasetId", dataset).put("target", new JsonObject().put("model", "billed-wine")));
            assertEquals(201, created.statusCode(), created.bodyAsString());
            String job = created.bodyAsJsonObject().getString("id");
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() -> api.get("/api/v1/training-jobs/" + job,
                    consumer).bodyAsJsonObject().getString("state").equals("succeeded"));

            long millis = Sql.count(db, "SELECT compute_millis FROM training_usage WHERE job_id = ?::uuid", job);
            assertEquals(1, Sql.count(db, "SELECT count(*) FROM training_usage"), "metered once, by the job's id");
            assertEquals(millis, api.get("/api/v1/training-jobs/" + job, consumer).bodyAsJsonObject().getJsonObject("result")
                    .getLong("computeMillis"));
            long expected = 100 + new BigDecimal(millis).multiply(BigDecimal.valueOf(6000))
                    .divide(BigDecimal.valueOf(60_000), 0, RoundingMode.HALF_UP).longValueExact();
            billed = line(api, consumer, subscription);
            assertEquals(1, billed.getLong("trainingJobs"), billed.encode());
            assertEquals(millis, billed.getLong("trainingComputeMillis"));
            assertEquals(expected, billed.getLong("trainingMinor"), billed.encode());
            assertEquals(expected, billed.getLong("amountMinor"), "nothing else on the line");
            JsonArray training = api.get("/api/v1/usage/summary", consumer).bodyAsJsonObject().getJsonArray("training");
            assertEquals(1, training.size(), training.encode());
            assertEquals(1, training.getJsonObject(0).getLong("jobs"));
            JsonArray earnings = api.get("/api/v1/earnings", publisher).bodyAsJsonObject().getJsonArray("models");
            assertEquals(expected, earnings.getJsonObject(0).getLong("grossMinor"), earnings.encode());

            // a failed job is not billed
            HttpResponse<Buffer> refused = api.post("/api/v1/training-jobs", consumer, new JsonObject().put("algorithm", "billed-logistic")
                    .put("datasetId", dataset).put("hyperparameters", new JsonObject().put("epochs", 500).put("batchSize", 1))
                    .put("target", new JsonObject().put("model", "billed-wine-cancelled")));
            String cancelled = refused.bodyAsJsonObject().getString("id");
            assertEquals(202, api.post("/api/v1/training-jobs/" + cancelled + "/cancel", consumer, null).statusCode());
            await().atMost(Duration.ofSeconds(30)).until(() -> api.get("/api/v1/training-jobs/" + cancelled, consumer)
                    .bodyAsJsonObject().getString("state").equals("cancelled"));
            assertEquals(1, Sql.count(db, "SELECT count(*) FROM training_usage"));

            // a plan's job time limit: a long job under it ends "time limit", saying it was the plan's, and costs nothing
            String hurried = accessToken(api.signUp("Hurried Trainer", "owner@hurried-trainer.test", "hurried-password"));
            api.post("/api/v1/subscriptions", hurried, new JsonObject().put("model", "billed-logistic")
                    .put("planId", shortJobs.getString("id")));
            String hurriedSha = upload(api, hurried, Files.readAllBytes(DATASETS.resolve("wine.csv")));
            String hurriedDataset = api.post("/api/v1/datasets", hurried, new JsonObject().put("uploadSha256", hurriedSha)
                    .put("name", "w").put("labelColumn", "label").put("task", "classification")).bodyAsJsonObject().getString("id");
            String longJob = api.post("/api/v1/training-jobs", hurried, new JsonObject().put("algorithm", "billed-logistic")
                    .put("datasetId", hurriedDataset).put("hyperparameters", new JsonObject().put("epochs", 500).put("batchSize", 1))
                    .put("target", new JsonObject().put("model", "hurried-wine"))).bodyAsJsonObject().getString("id");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> api.get("/api/v1/training-jobs/"
                    + longJob, hurried).bodyAsJsonObject().getString("state").equals("failed"));
            String reason = api.get("/api/v1/training-jobs/" + longJob, hurried).bodyAsJsonObject().getString("reason");
            assertTrue(reason.startsWith("time limit: the job ran past 2.0 s") && reason.contains("the limit of the plan 'Short jobs'"),
                    reason);
            assertEquals(1, Sql.count(db, "SELECT count(*) FROM training_usage"), "a job past its limit is not billed");

            // the free plan: its monthly training minute is used up (seeded as an earlier job's usage), so no job starts
            String other = accessToken(api.signUp("Free Trainer", "owner@free-trainer.test", "free-password"));
            api.post("/api/v1/subscriptions", other, new JsonObject().put("model", "billed-logistic").put("planId", free));
            String otherSha = upload(api, other, Files.readAllBytes(DATASETS.resolve("wine.csv")));
            String otherDataset = api.post("/api/v1/datasets", other, new JsonObject().put("uploadSha256", otherSha).put("name", "w")
                    .put("labelColumn", "label").put("task", "classification")).bodyAsJsonObject().getString("id");
            String otherTenant = api.get("/api/v1/me", other).bodyAsJsonObject().getString("tenantId");
            Sql.execute(db, "INSERT INTO training_usage (job_id, tenant_id, algorithm_id, subscription_id, compute_millis, occurred_at) "
                    + "SELECT j.id, ?::uuid, j.algorithm_id, NULL, 60000, now() FROM training_jobs j WHERE j.id = ?::uuid "
                    + "ON CONFLICT DO NOTHING", otherTenant, cancelled);
            JsonObject capped = assertProblem(api.post("/api/v1/training-jobs", other, new JsonObject().put("algorithm", "billed-logistic")
                    .put("datasetId", otherDataset).put("target", new JsonObject().put("model", "free-wine"))), 429);
            assertTrue(capped.getBoolean("quotaExceeded", false), capped.encode());
        } finally {
            TestPlatform.stop(first);
        }
        Platform second = TestPlatform.start(vertx, overrides);
        try (Api api = new Api(vertx, second.port())) {
            String token = accessToken(api.login("owner@billed-trainer.test", "consumer-password"));
            assertEquals(billed, line(api, token, subscription), "the same line after a restart");
            assertEquals(2, Sql.count(db, "SELECT count(*) FROM training_usage"), "the billed job and the seeded usage, once each");
        } finally {
            TestPlatform.stop(second);
        }
        assertEquals(1, Sql.count(db, "SELECT count(*) FROM training_usage WHERE subscription_id IS NOT NULL"));
    }
}
