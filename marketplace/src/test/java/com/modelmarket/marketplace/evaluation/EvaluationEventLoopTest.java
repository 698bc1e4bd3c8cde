package com.modelmarket.marketplace.evaluation;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * While evaluation jobs push their rows through the serving engine, no event loop is blocked:
 * Vert.x's blocked-thread checker, stricter than in production (1 s against 2 s, as in
 * TrainingEventLoopTest), reports nothing from the dataset upload to the last result, with API
 * calls made all along. A deliberate block first shows the checker is listening.
 */
@Tag("slow")
class EvaluationEventLoopTest {

    @Test
    @DisplayName("the blocked-thread checker reports nothing while evaluations run, and reports a deliberate block")
    void noBlockedEventLoop(@TempDir Path dir) throws Exception {
        Logger checker = (Logger) LoggerFactory.getLogger("io.vertx.core.impl.BlockedThreadChecker");
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        checker.addAppender(seen);
        Vertx vertx = Vertx.vertx(new VertxOptions().setBlockedThreadCheckInterval(50)
                .setMaxEventLoopExecuteTime(1000).setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
        try {
            io.vertx.core.Context loop = vertx.getOrCreateContext();
            loop.runOnContext(v -> {
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_500);
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            });
            io.vertx.core.Promise<Void> over = io.vertx.core.Promise.promise();
            loop.runOnContext(v -> over.complete());
            over.future().await(10, TimeUnit.SECONDS);
            Thread.sleep(300); // the checker's last look at the block (every 50 ms)
            assertTrue(!seen.list.isEmpty(), "the checker reports a deliberate block");
            seen.list.clear();

            Platform platform = TestPlatform.start(vertx, TestPlatform.baseOverrides(dir.resolve("data")));
            try (Api api = new Api(vertx, platform.port())) {
                String token = accessToken(api.signUp("Loop Eval", "owner@loop-eval.test", "loop-password"));
                createModel(api, token, "loop-digits", "private", new JsonObject());
                publishVersion(api, token, "loop-digits", "1.0.0", "digits_mlp");
                String sha = upload(api, token, Files.readAllBytes(EvaluationApiTest.FIXTURES.resolve("digits_eval.csv")));
                String dataset = api.post("/api/v1/datasets", token, new JsonObject().put("uploadSha256", sha).put("name", "digits")
                        .put("labelColumn", "digit").put("task", "classification")).bodyAsJsonObject().getString("id");
                for (int i = 0; i < 2; i++) {
                    HttpResponse<Buffer> r = api.post("/api/v1/evaluations", token, new JsonObject().put("model", "loop-digits")
                            .put("datasetId", dataset));
                    assertEquals(201, r.statusCode(), r.bodyAsString());
                    String id = r.bodyAsJsonObject().getString("id");
                    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(20)).until(() -> {
                        api.get("/api/v1/evaluations", token); // the API keeps being used while the job runs
                        return api.get("/api/v1/evaluations/" + id, token).bodyAsJsonObject().getString("state").equals("succeeded");
                    });
                    JsonObject sizes = api.get("/api/v1/evaluations/" + id, token).bodyAsJsonObject().getJsonObject("result")
                            .getJsonObject("serving").getJsonObject("batchSizes");
                    assertTrue(sizes.getInteger("max") > 1, "batched: " + sizes.encode());
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
