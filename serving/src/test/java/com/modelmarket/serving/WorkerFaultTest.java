package com.modelmarket.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.store.ModelStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models that hang or throw, beside a healthy model in the same engine. {@code hang_on_poison}
 * spins for {@code -x} iterations on a negative input; the spin count for a hang of a few seconds
 * is measured on this machine first.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkerFaultTest {

    private static final Duration STUCK_GRACE = Duration.ofMillis(500);
    private static final Duration HUNG_TIMEOUT = Duration.ofMillis(600);
    private static final long HANG_TARGET_MS = 6000;
    private static final int PROBE_SPINS = 20_000;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Queue<RequestFacts> facts = new ConcurrentLinkedQueue<>();
    private ServingEngine engine;
    private final ModelKey hang = new ModelKey("publisher-a", "hang_on_poison", "1");
    private final ModelKey poison = new ModelKey("publisher-a", "fail_on_poison", "1");
    private final ModelKey digits = new ModelKey("publisher-b", "digits_mlp", "1");
    private long spinsForHang;
    private ModelStore store;

    @BeforeAll
    void start(Vertx vertx, @TempDir Path dataDir, VertxTestContext ctx) {
        store = new ModelStore(dataDir);
        PoolConfig one = PoolConfig.defaults().withWorkers(1, 1).withDefaultTimeout(Duration.ofSeconds(10));
        ServingEngine.create(vertx, ServingConfig.defaults().inProcess().withStuckWorkers(2, STUCK_GRACE), registry)
                .compose(e -> {
                    engine = e;
                    engine.addRequestListener(facts::add);
                    return engine.load(hang, Fixtures.store(store, "hang_on_poison.pt"),
                            Fixtures.manifest("hang_on_poison"), one.withBatching(1, Duration.ZERO));
                })
                .compose(r -> engine.load(poison, Fixtures.store(store, "fail_on_poison.pt"),
                        Fixtures.manifest("fail_on_poison"),
                        one.withBatching(8, Duration.ofMillis(5)).withCalibration(Duration.ZERO).withMaxQueue(1000)))
                .compose(r -> engine.load(digits, Fixtures.store(store, "digits_mlp.pt"),
                        Fixtures.manifest("digits_mlp"), PoolConfig.defaults().withMaxQueue(1000)))
                .compose(r -> timedMillis(engine.infer(hang, spin(PROBE_SPINS)))) // warms up
                .compose(ms -> timedMillis(engine.infer(hang, spin(PROBE_SPINS))))
                .compose(first -> timedMillis(engine.infer(hang, spin(PROBE_SPINS))).map(second -> Math.min(first, second)))
                .onComplete(ctx.succeeding(ms -> {
                    double perSpin = Math.max(1e-4, ms) / PROBE_SPINS;
                    spinsForHang = Math.min(15_000_000, Math.max(PROBE_SPINS, (long) (HANG_TARGET_MS / perSpin)));
                    System.out.printf("hang_on_poison: %d spins took %.0f ms; %d spins for a %d ms hang%n",
                            PROBE_SPINS, ms, spinsForHang, HANG_TARGET_MS);
                    ctx.completeNow();
                }));
    }

    @AfterAll
    void stop(VertxTestContext ctx) {
        engine.close().onComplete(ctx.succeedingThenComplete());
    }

    private static InferenceRequest spin(long spins) {
        float v = -spins;
        return InferenceRequest.of(Tensor.ofFloats("x", new long[] {1, 4}, v, 1, 2, 3));
    }

    private static InferenceRequest plain(float v) {
        return InferenceRequest.of(Tensor.ofFloats("x", new long[] {1, 4}, v, v, v, v));
    }

    private static Future<Double> timedMillis(Future<?> call) {
        long start = System.nanoTime();
        return call.map(x -> (System.nanoTime() - start) / 1e6);
    }

    private static long millisSince(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    private ModelStatus status(ModelKey key) {
        return engine.status(key).orElseThrow();
    }

    /** Completes once {@code condition} holds, checked every 20 ms; fails after {@code max}. */
    private static Future<Void> eventually(Vertx vertx, BooleanSupplier condition, Duration max, String what) {
        Promise<Void> done = Promise.promise();
        long deadline = System.nanoTime() + max.toNanos();
        vertx.setPeriodic(20, id -> {
            if (condition.getAsBoolean()) {
                vertx.cancelTimer(id);
                done.tryComplete();
            } else if (System.nanoTime() > deadline) {
                vertx.cancelTimer(id);
                done.tryFail(new AssertionError(what + " not within " + max));
            }
        });
        return done.future();
    }

    /** Sends the healthy model a request every 100 ms and keeps what happened. */
    private final class Neighbour {
        final List<Future<Double>> calls = new ArrayList<>();
        final long timer;

        Neighbour(Vertx vertx) {
            InferenceRequest example = InferenceRequest.of(Fixtures.manifest("digits_mlp").example().get(0));
            timer = vertx.setPeriodic(100, id -> calls.add(timedMillis(engine.infer(digits, example))));
        }

        Future<List<Double>> stop(Vertx vertx) {
            vertx.cancelTimer(timer);
            return Future.all(calls).map(all -> calls.stream().map(Future::result).toList());
        }
    }

    @Test
    @DisplayName("a hung model fails its request at the deadline, gets a fresh worker, and never holds up another model")
    void hangIsContained(Vertx vertx, VertxTestContext ctx) {
        int deploymentsBefore = vertx.deploymentIDs().size();
        long replacedBefore = status(hang).replacedWorkers();
        Neighbour neighbour = new Neighbour(vertx);
        long start = System.nanoTime();
        long[] at = new long[3]; // hung request failed, next request served, hang over (ms from start)
        engine.infer(hang, spin(spinsForHang).withTimeout(HUNG_TIMEOUT))
                .transform(ar -> {
                    at[0] = millisSince(start);
                    DeadlineExceededException e = assertInstanceOf(DeadlineExceededException.class, ar.cause());
                    assertTrue(e.started());
                    return engine.infer(hang, plain(3).withTimeout(Duration.ofSeconds(20)));
                })
                .compose(served -> {
                    at[1] = millisSince(start);
                    assertEquals(6f, served.output("doubled").toFloats()[0]);
                    assertEquals(1, status(hang).stuckWorkers(), "the hung pass still runs");
                    assertEquals(replacedBefore + 1, status(hang).replacedWorkers());
                    return eventually(vertx, () -> status(hang).stuckWorkers() == 0, Duration.ofSeconds(60),
                            "the hung pass returning");
                })
                .compose(x -> {
                    at[2] = millisSince(start);
                    return eventually(vertx, () -> vertx.deploymentIDs().size() == deploymentsBefore,
                            Duration.ofSeconds(10), "the stuck worker undeployed");
                })
                .compose(x -> neighbour.stop(vertx))
                .compose(neighbourMillis -> engine.infer(hang, plain(3)).map(again -> {
                    assertEquals(6f, again.output("doubled").toFloats()[0]);
                    return neighbourMillis;
                }))
                .onComplete(ctx.succeeding(neighbourMillis -> ctx.verify(() -> {
                    long deadlineMs = HUNG_TIMEOUT.toMillis();
                    System.out.printf("hang: request failed at %d ms (deadline %d ms), next request served at %d ms "
                            + "by a replacement, hang over at %d ms; neighbour: %d requests, slowest %.1f ms%n",
                            at[0], deadlineMs, at[1], at[2], neighbourMillis.size(),
                            neighbourMillis.stream().mapToDouble(d -> d).max().orElse(0));
                    assertTrue(at[0] >= deadlineMs - 50 && at[0] < deadlineMs + 1500,
                            "failed at " + at[0] + " ms for a " + deadlineMs + " ms deadline");
                    assertTrue(at[1] < at[2], "served while the hang still ran: by a replacement");
                    assertTrue(neighbourMillis.size() >= 10, "the neighbour was asked throughout");
                    assertTrue(neighbourMillis.stream().allMatch(ms -> ms < 2000), "neighbour: " + neighbourMillis);
                    ModelStatus after = status(hang);
                    assertEquals(1, after.workers(), "back to one worker");
                    assertEquals(0, after.stuckWorkers());
                    assertEquals(1.0, registry.get("modelmarket.serving.workers.replaced")
                            .tags("model", hang.model(), "version", hang.version(), "reason", "stuck")
                            .counter().count());
                    ctx.completeNow();
                })));
    }

    @Test
    @DisplayName("a model that throws fails only the poisoned batch; its other requests and another model are served")
    void throwIsContained(VertxTestContext ctx) {
        InferenceRequest example = InferenceRequest.of(Fixtures.manifest("digits_mlp").example().get(0));
        List<Future<InferenceResult>> neighbours = new ArrayList<>();
        List<Future<InferenceResult>> mine = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            mine.add(engine.infer(poison, plain(i == 30 ? -1e7f : i)));
            neighbours.add(engine.infer(digits, example));
        }
        Future.join(mine).transform(ar -> Future.all(neighbours))
                .compose(x -> engine.infer(poison, plain(4)))
                .onComplete(ctx.succeeding(after -> ctx.verify(() -> {
            Throwable poisoned = mine.get(30).cause();
            assertInstanceOf(InferenceFailedException.class, poisoned);
            assertTrue(poisoned.getMessage().contains("poison value in input"), poisoned.getMessage());
            Set<Long> failedBatches = facts.stream()
                    .filter(f -> f.model().equals(poison) && f.outcome() == RequestOutcome.FAILED)
                    .map(RequestFacts::batchId).collect(Collectors.toSet());
            assertEquals(1, failedBatches.size(), "every failure comes from the poisoned batch");
            long failed = mine.stream().filter(Future::failed).count();
            assertTrue(failed <= 8, failed + " failed, a batch holds at most 8");
            for (int i = 0; i < mine.size(); i++) {
                if (mine.get(i).succeeded()) {
                    assertEquals(2f * i, mine.get(i).result().output("doubled").toFloats()[0]);
                }
            }
            assertEquals(0, status(poison).replacedWorkers(), "an exception renews the predictor, not the worker");
            assertEquals(1, status(poison).workers());
            assertEquals(8f, after.output("doubled").toFloats()[0], "the model keeps serving");
            ctx.completeNow();
        })));
    }

    @Test
    @DisplayName("unloading a version whose worker is stuck waits for the pass to return, then frees everything")
    void unloadWithStuckWorker(Vertx vertx, VertxTestContext ctx) {
        ModelKey doomed = new ModelKey("publisher-a", "hang_on_poison", "doomed");
        int deploymentsBefore = vertx.deploymentIDs().size();
        long[] unloadedAfter = new long[1];
        engine.load(doomed, Fixtures.store(store, "hang_on_poison.pt"), Fixtures.manifest("hang_on_poison"),
                        PoolConfig.defaults().withWorkers(1, 1).withBatching(1, Duration.ZERO))
                .compose(r -> {
                    Future<InferenceResult> hung = engine.infer(doomed,
                            spin(spinsForHang * 3 / 5).withTimeout(Duration.ofMillis(200)));
                    return hung.transform(ar -> eventually(vertx, () -> status(doomed).stuckWorkers() == 1,
                            Duration.ofSeconds(10), "the worker declared stuck"));
                })
                .compose(x -> {
                    long start = System.nanoTime();
                    return engine.unload(doomed).map(v -> unloadedAfter[0] = millisSince(start));
                })
                .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
                    System.out.printf("unload with a stuck worker took %d ms%n", unloadedAfter[0]);
                    assertTrue(engine.status(doomed).isEmpty());
                    assertEquals(deploymentsBefore, vertx.deploymentIDs().size(), "the stuck worker was stopped too");
                    ctx.completeNow();
                })));
    }
}
