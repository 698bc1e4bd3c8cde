package com.modelmarket.marketplace.training;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.upload;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.TestDatabases;
import com.modelmarket.marketplace.support.TestPlatform;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
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
 * How jobs end when they do not succeed: past the time limit, a loss that became NaN, and a node
 * that stops in the middle of a job and starts again on the same data directory. Each ends the job
 * with its reason and leaves no model version.
 */
@ExtendWith(VertxExtension.class)
@Tag("slow")
class TrainingFailuresTest {

    private static final Path DATASETS = Path.of("..", "serving", "fixtures", "datasets");

    /** An algorithm (the tenant's own) whose schema lets a job pick a learning rate that makes SGD diverge. */
    private static final JsonObject WILD = new JsonObject().put("task", "regression")
            .put("architecture", new JsonObject().put("kind", "linear")).put("optimizer", "sgd")
            .put("hyperparameters", new JsonObject()
                    .put("epochs", new JsonObject().put("type", "int").put("default", 20).put("min", 1).put("max", 5000))
                    .put("learningRate", new JsonObject().put("type", "double").put("default", 0.01).put("min", 0.0001).put("max", 10.0))
                    .put("batchSize", new JsonObject().put("type", "int").put("default", 32).put("min", 1).put("max", 1024)));

    private record Tenant(String token, String datasetId) {
    }

    private static Tenant setUp(Api api) throws Exception {
        String token = accessToken(api.signUp("Failing Co", "owner@failing.test", "failing-password"));
        createModel(api, token, "wild-regressor", "private", new JsonObject().put("kind", "algorithm").put("task", "regression")
                .put("algorithm", WILD));
        String sha = upload(api, token, Files.readAllBytes(DATASETS.resolve("diabetes.csv")));
        HttpResponse<Buffer> d = api.post("/api/v1/datasets", token, new JsonObject().put("uploadSha256", sha)
                .put("name", "diabetes").put("labelColumn", "target").put("task", "regression"));
        assertEquals(201, d.statusCode(), d.bodyAsString());
        return new Tenant(token, d.bodyAsJsonObject().getString("id"));
    }

    private static String start(Api api, Tenant t, String target, JsonObject hyperparameters) {
        HttpResponse<Buffer> r = api.post("/api/v1/training-jobs", t.token(), new JsonObject().put("algorithm", "wild-regressor")
                .put("datasetId", t.datasetId()).put("hyperparameters", hyperparameters)
                .put("target", new JsonObject().put("model", target)));
        assertEquals(201, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject().getString("id");
    }

    private static JsonObject ended(Api api, Tenant t, String id) {
        await("job ends").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() ->
                !java.util.List.of("queued", "running").contains(job(api, t, id).getString("state")));
        return job(api, t, id);
    }

    private static JsonObject job(Api api, Tenant t, String id) {
        return api.get("/api/v1/training-jobs/" + id, t.token()).bodyAsJsonObject();
    }

    private static Map<String, String> overrides(Path dir, DbTarget db) {
        Map<String, String> overrides = new HashMap<>(TestPlatform.baseOverrides(dir.resolve("data")));
        overrides.put("db.url", TestDatabases.url(db));
        overrides.put("training.max-job-seconds", "3");
        return overrides;
    }

    @Test
    @DisplayName("time limit and NaN loss end the job failed with the reason; a restart mid-job ends it 'interrupted'; never a version")
    void failures(Vertx vertx, @TempDir Path dir) throws Exception {
        DbTarget db = TestDatabases.freshDatabase();
        Platform first = TestPlatform.start(vertx, overrides(dir, db));
        Tenant t;
        String interrupted;
        try (Api api = new Api(vertx, first.port())) {
            t = setUp(api);
            JsonObject nan = ended(api, t, start(api, t, "diverged", new JsonObject().put("learningRate", 10.0).put("epochs", 50)));
            assertEquals("failed", nan.getString("state"), nan.encode());
            assertTrue(nan.getString("reason").contains("NaN or infinite"), nan.encode());

            JsonObject slow = ended(api, t, start(api, t, "too-slow", new JsonObject().put("epochs", 5000).put("batchSize", 1)));
            assertEquals("failed", slow.getString("state"), slow.encode());
            assertTrue(slow.getString("reason").startsWith("time limit"), slow.encode());

            interrupted = start(api, t, "interrupted", new JsonObject().put("epochs", 5000).put("batchSize", 1));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> job(api, t, interrupted).getString("state").equals("running"));
        } finally {
            TestPlatform.stop(first); // in the middle of the job
        }
        // a job the node was running when it died (no graceful stop could end it): found open at the next start
        String crashed = java.util.UUID.randomUUID().toString();
        Sql.execute(db, "INSERT INTO training_jobs (id, tenant_id, algorithm_id, dataset_id, recipe, hyperparameters, target_slug, "
                + "target_version, state, started_at) SELECT ?::uuid, tenant_id, algorithm_id, dataset_id, recipe, hyperparameters, "
                + "'crashed', '1.0.0', 'running', now() FROM training_jobs WHERE id = ?::uuid", crashed, interrupted);
        Map<String, String> again = overrides(dir, db);
        again.put("training.max-job-seconds", "600");
        Platform second = TestPlatform.start(vertx, again);
        try (Api api = new Api(vertx, second.port())) {
            String token = accessToken(api.login("owner@failing.test", "failing-password"));
            JsonObject job = api.get("/api/v1/training-jobs/" + interrupted, token).bodyAsJsonObject();
            assertEquals("failed", job.getString("state"), job.encode());
            assertTrue(job.getString("reason").startsWith("interrupted"), job.encode());
            assertNull(job.getString("versionId"));
            assertEquals(1, api.get("/api/v1/datasets", token).bodyAsJsonObject().getJsonArray("items").size(), "datasets are kept");
            assertEquals(4, api.get("/api/v1/training-jobs", token).bodyAsJsonObject().getJsonArray("items").size(), "and job history");
            JsonObject found = api.get("/api/v1/training-jobs/" + crashed, token).bodyAsJsonObject();
            assertEquals("failed", found.getString("state"), found.encode());
            assertTrue(found.getString("reason").startsWith("interrupted"), found.encode());

            // in a cluster, a starting node ends only the open jobs of processes that are no longer members
            Map<String, String> jobs = new HashMap<>();
            for (String runner : new String[] {"gone-node", "live-node", null}) {
                String copy = java.util.UUID.randomUUID().toString();
                Sql.execute(db, "INSERT INTO training_jobs (id, tenant_id, algorithm_id, dataset_id, recipe, hyperparameters, "
                        + "target_slug, target_version, state, started_at, runner_node) SELECT ?::uuid, tenant_id, algorithm_id, "
                        + "dataset_id, recipe, hyperparameters, 'copy', '1.0.0', 'running', now(), ? FROM training_jobs "
                        + "WHERE id = ?::uuid", copy, runner, interrupted);
                jobs.put(String.valueOf(runner), copy);
            }
            JobRunner member = new JobRunner("this-node", () -> java.util.List.of("this-node", "live-node"));
            int ended = com.modelmarket.marketplace.db.TenantScope.system(second.services().database().pool(),
                    tx -> new TrainingJobRepository(member).failInterrupted(tx, "interrupted (test)").map(java.util.List::size))
                    .await(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(2, ended, "the gone node's job and the one from before runner ids");
            for (Map.Entry<String, String> e : jobs.entrySet()) {
                JsonObject swept = api.get("/api/v1/training-jobs/" + e.getValue(), token).bodyAsJsonObject();
                assertEquals(e.getKey().equals("live-node") ? "running" : "failed", swept.getString("state"),
                        e.getKey() + ": " + swept.encode());
            }
        } finally {
            TestPlatform.stop(second);
        }
        assertEquals(0, Sql.count(db, "SELECT count(*) FROM model_versions"), "no job left a version");
        assertEquals(0, Sql.count(db, "SELECT count(*) FROM models WHERE kind = 'model'"), "nor a model");
        assertTrue(Sql.count(db, "SELECT count(*) FROM audit_log WHERE action = 'training.fail'") >= 4);
    }
}
