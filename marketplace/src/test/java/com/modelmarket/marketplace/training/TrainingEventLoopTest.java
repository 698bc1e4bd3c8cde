package com.modelmarket.marketplace.training;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.upload;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.TestPlatform;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * While training jobs run, no event loop is blocked: Vert.x's blocked-thread checker, set stricter
 * than in production (an event loop busy for more than 1 s is reported, against 2 s; less would
 * report a loaded 2-core CI machine's scheduling, not the code),
 * reports nothing from the upload of the CSV to the served model, with API calls made all along.
 * The test first blocks an event loop on purpose and sees the checker report it, so that its
 * silence afterwards means something.
 */
@Tag("slow")
class TrainingEventLoopTest {

    private static final Path DATASETS = Path.of("..", "serving", "fixtures", "datasets");
    private static final Path RECIPES = Path.of("..", "serving", "fixtures", "recipes");

    @Test
    @DisplayName("the blocked-thread checker reports nothing while jobs train, and reports a deliberate block")
    void noBlockedEventLoop(@TempDir Path dir) throws Exception {
        Logger checker = (Logger) LoggerFactory.getLogger("io.vertx.core.impl.BlockedThreadChecker");
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        checker.addAppender(seen);
        Vertx vertx = Vertx.vertx(new VertxOptions().setBlockedThreadCheckInterval(50)
                .setMaxEventLoopExecuteTime(1000).setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
        try {
            // the control: a block the checker must see
            io.vertx.core.Context loop = vertx.getOrCreateContext();
            loop.runOnContext(v -> {
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_500);
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            });
            io.vertx.core.Promise<Void> over = io.vertx.core.Promise.promise();
            loop.runOnContext(v -> over.complete()); // runs once the block is over
            over.future().await(10, TimeUnit.SECONDS);
            Thread.sleep(300); // the checker's last look at the block (every 50 ms)
            assertTrue(!seen.list.isEmpty(), "the checker reports a deliberate block");
            seen.list.clear();

            Platform platform = TestPlatform.start(vertx, TestPlatform.baseOverrides(dir.resolve("data")));
            try (Api api = new Api(vertx, platform.port())) {
                assertTrue(seen.list.isEmpty(), "blocked while starting: " + seen.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
                String token = accessToken(api.signUp("Loop Watch", "owner@loop-watch.test", "loop-password"));
                createModel(api, token, "own-mlp", "private", new JsonObject().put("kind", "algorithm").put("task", "tabular-classification")
                        .put("algorithm", new JsonObject(Files.readString(RECIPES.resolve("mlp_classifier.json")))));
                String sha = upload(api, token, Files.readAllBytes(DATASETS.resolve("breast_cancer.csv")));
                String dataset = api.post("/api/v1/datasets", token, new JsonObject().put("uploadSha256", sha).put("name", "bc")
                        .put("labelColumn", "label").put("task", "classification")).bodyAsJsonObject().getString("id");
                String key = api.post("/api/v1/api-keys", token, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
                for (String target : List.of("loop-1", "loop-2")) {
                    HttpResponse<Buffer> r = api.post("/api/v1/training-jobs", token, new JsonObject().put("algorithm", "own-mlp")
                            .put("datasetId", dataset).put("target", new JsonObject().put("model", target)));
                    assertEquals(201, r.statusCode(), r.bodyAsString());
                    String id = r.bodyAsJsonObject().getString("id");
                    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(20)).until(() -> {
                        api.get("/api/v1/training-jobs", token); // the API keeps being used while the job trains
                        return api.get("/api/v1/training-jobs/" + id, token).bodyAsJsonObject().getString("state").equals("succeeded");
                    });
                    JsonObject features = new JsonObject().put("inputs", new io.vertx.core.json.JsonArray().add(new JsonObject()
                            .put("name", "features").put("datatype", "FP32").put("shape", new io.vertx.core.json.JsonArray().add(1).add(30))
                            .put("data", new io.vertx.core.json.JsonArray(java.util.Collections.nCopies(30, 1.0)))));
                    assertEquals(200, api.post("/v2/models/" + target + "/infer", key, features).statusCode());
                }
            } finally {
                TestPlatform.stop(platform);
            }
            assertTrue(seen.list.isEmpty(), "blocked event loops: " + seen.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
        } finally {
            checker.detachAppender(seen);
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }
}
