package com.modelmarket.serving.host;

import static com.modelmarket.serving.host.SandboxTest.await;
import static com.modelmarket.serving.host.SandboxTest.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.HostConfig;
import com.modelmarket.serving.HostStatus;
import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.ServingConfig;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compute isolation between publishers: a model that busy-loops on a poison input, and examples
 * that loop during validation, have their host killed at the deadline while another tenant's model
 * keeps its latency; a host killed by SIGKILL or SIGSEGV under load costs only its own tenant's
 * requests, and the next ones are served by a fresh host.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@org.junit.jupiter.api.Tag("slow")
class HostFaultTest {

    private static final Path FIXTURES = Path.of(System.getProperty("modelmarket.fixtures", "fixtures"));
    private static final Duration POISON_TIMEOUT = Duration.ofMillis(1000);
    private static final Duration VALIDATION_TIMEOUT = Duration.ofMillis(1500);

    @TempDir
    static Path data;
    private Vertx vertx;
    private ServingEngine engine;
    private ModelStore store;
    private final Queue<RequestFacts> facts = new ConcurrentLinkedQueue<>();
    private final ModelKey victim = new ModelKey("victim", "digits_mlp", "1");
    private final ModelKey hang = new ModelKey("attacker", "hang_on_poison", "1");
    private InferenceRequest digit;

    @BeforeAll
    void start(Vertx vertx) throws IOException {
        this.vertx = vertx;
        store = new ModelStore(data.resolve("models"));
        HostConfig hosts = HostConfig.defaults().withDirs(data.resolve("hosts"), null)
                .withTimeouts(VALIDATION_TIMEOUT, Duration.ofMillis(300), Duration.ofSeconds(10));
        engine = await(ServingEngine.create(vertx, ServingConfig.defaults().withWorkerThreads(2).withHosts(hosts),
                new SimpleMeterRegistry()));
        engine.addRequestListener(facts::add);
        await(engine.load(victim, artifact("digits_mlp.pt"), manifest("digits_mlp"), PoolConfig.defaults()));
        await(engine.load(hang, artifact("hang_on_poison.pt"), manifest("hang_on_poison"),
                PoolConfig.defaults().withWorkers(1, 2).withBatching(1, Duration.ZERO)));
        digit = InferenceRequest.of(manifest("digits_mlp").example().get(0).slice(0, 1));
    }

    @AfterAll
    void stop() {
        await(engine.close());
    }

    private StoredArtifact artifact(String file) throws IOException {
        try (InputStream in = Files.newInputStream(FIXTURES.resolve(file))) {
            return store.put(in, 1 << 20);
        }
    }

    private static JsonObject manifestJson(String name) throws IOException {
        return new JsonObject(Files.readString(FIXTURES.resolve(name + ".json")));
    }

    private static ModelManifest manifest(String name) throws IOException {
        return ModelManifest.fromJson(manifestJson(name));
    }

    /** The hang model with an example that spins far past any validation deadline. */
    private static ModelManifest loopingExample() throws IOException {
        JsonObject json = manifestJson("hang_on_poison");
        json.getJsonObject("example").getJsonArray("inputs").getJsonObject(0)
                .put("data", new JsonArray(List.of(-2.0e9, 1, 2, 3, 4, 5, 6, 7)));
        return ModelManifest.fromJson(json);
    }

    private static InferenceRequest poison() {
        return InferenceRequest.of(Tensor.ofFloats("x", new long[] {1, 4}, -2.0e9f, 1, 2, 3))
                .withTimeout(POISON_TIMEOUT);
    }

    private long hostPid(String owner) {
        return engine.hosts().stream().filter(h -> h.owner().equals(owner)).mapToLong(HostStatus::pid)
                .findFirst().orElse(-1);
    }

    /** Calls the victim every 200 ms for {@code calls} calls; the latencies, in ms. */
    /**
     * Calls the victim every 200 ms, {@code ticks} times; each time {@link #CALLS_PER_TICK} calls one
     * after the other (so that a p99 rests on hundreds of latencies, not on the slowest of a few
     * dozen wake-ups from idle). The latencies, in ms.
     */
    private Future<List<Double>> victimCalls(int ticks) {
        Promise<List<Double>> done = Promise.promise();
        List<Future<Double>> all = Collections.synchronizedList(new ArrayList<>());
        int[] sent = {0};
        vertx.setPeriodic(200, id -> {
            Future<Double> chain = Future.succeededFuture(0.0);
            for (int i = 0; i < CALLS_PER_TICK; i++) {
                chain = chain.compose(x -> {
                    long t0 = System.nanoTime();
                    Future<Double> one = engine.infer(victim, digit).map(r -> (System.nanoTime() - t0) / 1e6);
                    all.add(one);
                    return one;
                });
            }
            if (++sent[0] == ticks) {
                vertx.cancelTimer(id);
                chain.transform(x -> Future.all(new ArrayList<>(all))).onComplete(ar -> {
                    if (ar.failed()) {
                        done.fail(ar.cause());
                    } else {
                        done.complete(all.stream().map(Future::result).toList());
                    }
                });
            }
        });
        return done.future();
    }

    private static final int CALLS_PER_TICK = 5;

    private static double p99(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get((int) Math.ceil(0.99 * sorted.size()) - 1);
    }

    /** Waits out an overloaded answer's Retry-After; true to try again. */
    private static boolean waited(OverloadedException o) {
        try {
            Thread.sleep(Math.min(5000, o.retryAfter().toMillis())); // NOPMD: honours Retry-After, not a guessed wait
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }

    /** The call's result, retried after each overloaded answer as its Retry-After says (at most 20 times). */
    private static InferenceResult eventually(java.util.function.Supplier<Future<InferenceResult>> call) {
        for (int attempt = 0; ; attempt++) {
            Future<InferenceResult> f = call.get();
            Throwable err = f.toCompletionStage().toCompletableFuture().handle((r, e) -> e).join();
            if (err == null) {
                return await(f);
            }
            Throwable cause = err instanceof java.util.concurrent.CompletionException ? err.getCause() : err;
            if (!(cause instanceof OverloadedException o) || attempt == 20 || !waited(o)) {
                throw new AssertionError(cause);
            }
        }
    }

    @Test
    @DisplayName("poison loops and looping validations are killed at their deadlines; another tenant keeps its p99")
    void loopsAreKilledAndTheVictimKeepsItsLatency() throws Exception {
        await(victimCalls(10)); // warm
        // the idle baseline: 30 calls before the attack and 30 after it (below), so that a noisy
        // moment of the machine weighs on both sides alike
        List<Double> idleCalls = new ArrayList<>(await(victimCalls(30)));
        long attackerPid = hostPid("attacker");
        Future<List<Double>> underAttack = victimCalls(40);
        List<Future<InferenceResult>> poisoned = new ArrayList<>();
        List<Long> answeredAfter = Collections.synchronizedList(new ArrayList<>());
        List<Future<?>> validations = new ArrayList<>();
        long start = System.nanoTime();
        for (int wave = 0; wave < 3; wave++) {
            for (int i = 0; i < 4; i++) {
                Future<InferenceResult> f = engine.infer(hang, poison());
                f.onComplete(ar -> answeredAfter.add((System.nanoTime() - start) / 1_000_000));
                poisoned.add(f);
            }
            if (wave == 1) {
                for (int i = 0; i < 2; i++) {
                    validations.add(engine.load(new ModelKey("attacker", "looping", "v" + i),
                            artifact("hang_on_poison.pt"), loopingExample(), PoolConfig.defaults()));
                }
            }
            Future.join(poisoned).transform(ar -> Future.succeededFuture()).toCompletionStage()
                    .toCompletableFuture().get();
        }
        for (Future<?> v : validations) {
            Throwable err = failure(v);
            assertInstanceOf(ModelRejectedException.class, err, String.valueOf(err));
        }
        List<Double> attacked = await(underAttack);
        for (Future<InferenceResult> f : poisoned) {
            Throwable err = failure(f);
            assertTrue(err instanceof DeadlineExceededException || err instanceof OverloadedException, err.toString());
        }
        long newPid = hostPid("attacker");
        idleCalls.addAll(await(victimCalls(30)));
        double idle = p99(idleCalls);
        double p99 = p99(attacked);
        System.out.printf("victim idle p99 %.2f ms, under attack p99 %.2f ms (max %.2f) over %d calls; attacker host %d → %d; "
                        + "poison calls answered at %s ms%n", idle, p99, Collections.max(attacked), attacked.size(),
                attackerPid, newPid, answeredAfter);
        assertEquals(40 * CALLS_PER_TICK, attacked.size(), "every victim call answered");
        // within 2x of idle, or 10 ms of it on a noisy 2-core VM (a clean-clone CI run once measured
        // 6.4 against 2.0 ms); without the isolation the victim waits for the loops' 1 s deadlines
        assertTrue(p99 < Math.max(2 * idle, idle + 10), "victim p99 " + p99 + " ms under attack, idle p99 " + idle + " ms");
        assertNotEquals(attackerPid, newPid, "the looping host was killed and replaced");
        // the looping validation alone: refused at its own deadline, saying so (once the attacker's
        // restarts, slowed down after its hosts died in a row, are allowed again)
        Throwable alone;
        long took;
        int attempt = 0;
        do {
            long t0 = System.nanoTime();
            alone = failure(engine.load(new ModelKey("attacker", "looping", "alone" + attempt++),
                    artifact("hang_on_poison.pt"), loopingExample(), PoolConfig.defaults()));
            took = (System.nanoTime() - t0) / 1_000_000;
        } while (alone instanceof OverloadedException o && waited(o) && attempt < 20);
        ModelRejectedException rejected = assertInstanceOf(ModelRejectedException.class, alone);
        assertEquals(ModelRejectedException.Check.EXAMPLE, rejected.check());
        assertTrue(rejected.reason().contains("did not finish within"), rejected.reason());
        assertTrue(took < VALIDATION_TIMEOUT.toMillis() + 3000, "refused after " + took + " ms");
        // and the attacker's well-behaved calls are served again by a fresh host
        InferenceResult ok = eventually(() -> engine.infer(hang, InferenceRequest.of(Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4))));
        assertEquals(2f, ok.output("doubled").toFloats()[0]);
    }

    @Test
    @DisplayName("a host killed by SIGKILL or SIGSEGV under load fails only its tenant's calls; the next ones succeed")
    void crashCostsOnlyItsTenant() throws Exception {
        ModelKey other = new ModelKey("crasher", "digits_mlp", "1");
        await(engine.load(other, artifact("digits_mlp.pt"), manifest("digits_mlp"), PoolConfig.defaults()));
        for (String signal : List.of("KILL", "SEGV")) {
            long pid = hostPid("crasher");
            List<Future<InferenceResult>> mine = new ArrayList<>();
            List<Future<InferenceResult>> theirs = new ArrayList<>();
            long until = System.nanoTime() + 1_500_000_000L;
            boolean sent = false;
            while (System.nanoTime() < until) {
                for (int i = 0; i < 8; i++) {
                    mine.add(engine.infer(other, digit));
                    theirs.add(engine.infer(victim, digit));
                }
                if (!sent && System.nanoTime() > until - 1_000_000_000L) {
                    long javaPid = ProcessHandle.of(pid).orElseThrow().descendants()
                            .filter(h -> h.info().command().orElse("").endsWith("java")).findFirst()
                            .orElseThrow().pid();
                    Process kill = new ProcessBuilder("kill", "-" + signal, "" + javaPid).start();
                    assertEquals(0, kill.waitFor());
                    sent = true;
                }
                List<Future<InferenceResult>> all = new ArrayList<>(mine);
                all.addAll(theirs);
                Future.join(all).transform(ar -> Future.succeededFuture()).toCompletionStage().toCompletableFuture().get();
            }
            for (Future<InferenceResult> f : theirs) {
                assertEquals(Boolean.TRUE, await(f.map(r -> Boolean.TRUE)), "the other tenant's calls all succeed");
            }
            long failed = 0;
            for (Future<InferenceResult> f : mine) {
                Throwable err = f.cause();
                if (err != null) {
                    failed++;
                    assertTrue(err instanceof OverloadedException || err instanceof DeadlineExceededException,
                            signal + ": " + err);
                }
            }
            InferenceResult next = eventually(() -> engine.infer(other, digit));
            assertEquals(10, next.output("probabilities").dim(1));
            assertNotEquals(pid, hostPid("crasher"), "a fresh host");
            long answeredFacts = facts.stream().filter(f -> f.model().equals(other)
                    && f.outcome() == com.modelmarket.serving.RequestOutcome.SUCCESS).count();
            System.out.printf("SIG%s: %d of %d calls of the crashed tenant failed, %d of the other tenant's all served;"
                    + " %d successful facts so far%n", signal, failed, mine.size(), theirs.size(), answeredFacts);
            // only calls on the host when it died fail (possibly none), and those sent while a second death in a
            // row holds its restart back (503 with Retry-After); the rest are served
            assertTrue(failed < mine.size(), "some calls were served: " + failed + " failed");
        }
    }
}
