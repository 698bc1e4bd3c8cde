package com.modelmarket.serving;

import static com.modelmarket.serving.Fixtures.await;
import static com.modelmarket.serving.Fixtures.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.ModelStatus.State;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The engine's scheduling behaviour, with real TorchScript models. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServingEngineTest {

    private Vertx vertx;
    private ModelStore store;
    private SimpleMeterRegistry registry;
    private ServingEngine engine;
    private final Queue<RequestFacts> facts = new ConcurrentLinkedQueue<>();
    private int versions;

    @BeforeAll
    void start(@TempDir Path dataDir) {
        vertx = Vertx.vertx();
        store = new ModelStore(dataDir);
        registry = new SimpleMeterRegistry();
        engine = await(ServingEngine.create(vertx,
                ServingConfig.defaults().withIdleCheckInterval(Duration.ofMillis(50)), registry));
        engine.addRequestListener(facts::add);
    }

    @AfterAll
    void stop() {
        await(engine.close());
        await(vertx.close());
    }

    private ModelKey load(String fixture, PoolConfig config) {
        ModelKey key = new ModelKey("tests", fixture, String.valueOf(++versions));
        await(engine.load(key, Fixtures.store(store, fixture + ".pt"), Fixtures.manifest(fixture),
                config));
        return key;
    }

    private List<RequestFacts> factsOf(ModelKey key) {
        return facts.stream().filter(f -> f.model().equals(key)).toList();
    }

    private static float[][] randomDigits(int count, long seed) {
        Random random = new Random(seed);
        float[][] digits = new float[count][64];
        for (float[] d : digits) {
            for (int i = 0; i < d.length; i++) {
                d[i] = random.nextInt(17) / 16f;
            }
        }
        return digits;
    }

    private static InferenceRequest digits(float[][] all, int from, int count) {
        float[] flat = new float[count * 64];
        for (int i = 0; i < count; i++) {
            System.arraycopy(all[from + i], 0, flat, i * 64, 64);
        }
        return InferenceRequest.of(Tensor.ofFloats("pixels", new long[] {count, 64}, flat));
    }

    private static float[] row(Tensor t, int row) {
        int width = (int) t.dim(1);
        return Arrays.copyOfRange(t.toFloats(), row * width, (row + 1) * width);
    }

    @Test
    @DisplayName("requests merged into batches get exactly what they get when run alone")
    void batchedEqualsAlone() throws Exception {
        ModelKey key = load("digits_mlp", PoolConfig.defaults().withWorkers(1, 2)
                .withBatching(16, Duration.ofMillis(2)).withMaxQueue(4096).withCalibration(Duration.ZERO));
        float[][] digits = randomDigits(96, 42);
        float[][] alone = new float[digits.length][];
        for (int i = 0; i < digits.length; i++) {
            InferenceResult r = await(engine.infer(key, digits(digits, i, 1)));
            assertEquals(1, r.facts().batchSize(), "one request at a time runs alone");
            alone[i] = row(r.output("probabilities"), 0);
        }

        // 8 threads each fire 12 requests of 1 to 4 items without waiting, then collect
        record Sent(int from, int count, Future<InferenceResult> result) {}
        Queue<Sent> sent = new ConcurrentLinkedQueue<>();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        for (int t = 0; t < 8; t++) {
            long seed = t;
            threads.execute(() -> {
                Random random = new Random(seed);
                for (int r = 0; r < 12; r++) {
                    int count = 1 + random.nextInt(4);
                    int from = random.nextInt(digits.length - count + 1);
                    sent.add(new Sent(from, count, engine.infer(key, digits(digits, from, count))));
                }
            });
        }
        threads.shutdown();
        assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS));

        boolean merged = false;
        for (Sent s : sent) {
            InferenceResult r = await(s.result());
            Tensor probabilities = r.output("probabilities");
            assertEquals(s.count(), probabilities.dim(0));
            for (int i = 0; i < s.count(); i++) {
                float[] got = row(probabilities, i);
                for (int c = 0; c < 10; c++) {
                    assertEquals(alone[s.from() + i][c], got[c], 1e-5, "item " + (s.from() + i));
                }
            }
            assertTrue(r.facts().batchSize() <= 16);
            merged |= r.facts().batchSize() > s.count();
        }
        assertEquals(96, sent.size());
        assertTrue(merged, "under concurrency some requests must have shared a batch");
    }

    @Test
    @DisplayName("a request to an idle engine runs at once, however long maxBatchDelay is")
    void idleRequestIsNotDelayed() {
        ModelKey key = load("digits_mlp", PoolConfig.defaults().withWorkers(1, 1)
                .withBatching(32, Duration.ofSeconds(5)));
        float[][] digits = randomDigits(5, 1);
        long start = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            InferenceResult r = await(engine.infer(key, digits(digits, i, 1)));
            assertEquals(1, r.facts().batchSize());
        }
        // five requests that each waited for the 5 s delay would take 25 s
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(elapsedMs < 5000, "five idle requests took " + elapsedMs + " ms");
    }

    @Test
    @DisplayName("under load, batches hold more than one item and never more than maxBatchSize")
    void batchesFormUnderLoad() {
        ModelKey key = load("digits_mlp", PoolConfig.defaults().withWorkers(1, 1)
                .withBatching(8, Duration.ofMillis(20)).withMaxQueue(1000).withCalibration(Duration.ZERO));
        float[][] digits = randomDigits(200, 2);
        List<Future<InferenceResult>> results = new ArrayList<>();
        for (int i = 0; i < 200; i += 1 + i % 3) {
            int count = Math.min(1 + i % 3, 200 - i);
            results.add(engine.infer(key, digits(digits, i, count)));
        }
        results.forEach(Fixtures::await);
        List<RequestFacts> mine = factsOf(key);
        assertEquals(results.size(), mine.size());
        int largest = mine.stream().mapToInt(RequestFacts::batchSize).max().orElse(0);
        assertTrue(largest > 1, "no batch formed");
        assertTrue(largest <= 8, "batch of " + largest);
        // items, not requests, fill a batch: the items of one batch add up to its size
        mine.stream().collect(Collectors.groupingBy(RequestFacts::batchId))
                .forEach((batch, members) -> assertEquals(members.get(0).batchSize(),
                        members.stream().mapToInt(RequestFacts::items).sum(), "batch " + batch));

        DistributionSummary sizes = registry.get("modelmarket.serving.batch.size")
                .tags("model", key.model(), "version", key.version()).summary();
        assertTrue(sizes.max() <= 8);
        assertEquals(mine.stream().map(RequestFacts::batchId).distinct().count(), sizes.count());
        assertEquals(results.size(), registry.get("modelmarket.serving.requests")
                .tags("model", key.model(), "version", key.version(), "outcome", "success")
                .counter().count());
    }

    @Test
    @DisplayName("a full queue fails fast with an overload error carrying a retry-after hint")
    void fullQueueFailsFast() {
        ModelKey key = load("digits_mlp", PoolConfig.defaults().withWorkers(1, 1)
                .withBatching(1, Duration.ZERO).withMaxQueue(4));
        float[][] digits = randomDigits(100, 3);
        List<Future<InferenceResult>> results = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            results.add(engine.infer(key, digits(digits, i, 1)));
        }
        int overloaded = 0;
        for (Future<InferenceResult> f : results) {
            Throwable err = Fixtures.errorOf(f);
            if (err != null) {
                OverloadedException e = assertInstanceOf(OverloadedException.class, err);
                assertTrue(e.retryAfter().getSeconds() >= 1);
                overloaded++;
            }
        }
        assertTrue(overloaded > 0, "100 requests at once into a queue of 4 must overflow");
        List<RequestFacts> refused =
                factsOf(key).stream().filter(f -> f.outcome() == RequestOutcome.OVERLOADED).toList();
        assertEquals(overloaded, refused.size());
        assertTrue(refused.stream().allMatch(f -> f.batchId() == 0 && f.computeNanos() == 0));
        assertEquals(100 - overloaded,
                factsOf(key).stream().filter(f -> f.outcome() == RequestOutcome.SUCCESS).count());
    }

    @Test
    @DisplayName("a request whose deadline passes before it starts fails with a timeout and never runs")
    void expiredDeadlineFails() {
        ModelKey key = load("digits_mlp", PoolConfig.defaults().withWorkers(1, 1)
                .withBatching(1, Duration.ZERO).withMaxQueue(1000));
        float[][] digits = randomDigits(300, 4);

        DeadlineExceededException now = assertInstanceOf(DeadlineExceededException.class,
                failure(engine.infer(key, digits(digits, 0, 1).withTimeout(Duration.ZERO))));
        assertFalse(now.started());

        List<Future<InferenceResult>> results = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            results.add(engine.infer(key, digits(digits, i, 1).withTimeout(Duration.ofMillis(2))));
        }
        int expiredUnstarted = 0;
        for (Future<InferenceResult> f : results) {
            Throwable err = Fixtures.errorOf(f);
            if (err != null) {
                DeadlineExceededException e = assertInstanceOf(DeadlineExceededException.class, err);
                expiredUnstarted += e.started() ? 0 : 1;
            }
        }
        assertTrue(expiredUnstarted > 0, "300 requests with 2 ms deadlines, one at a time");
        List<RequestFacts> notRun = factsOf(key).stream()
                .filter(f -> f.outcome() == RequestOutcome.DEADLINE_EXCEEDED && f.batchId() == 0).toList();
        assertEquals(expiredUnstarted + 1, notRun.size());
        assertTrue(notRun.stream().allMatch(f -> f.computeNanos() == 0 && f.batchSize() == 0));
    }

    @Test
    @DisplayName("a model that throws fails only its batch, and the next request succeeds")
    void modelErrorFailsOnlyItsBatch() {
        ModelKey key = load("fail_on_poison", PoolConfig.defaults().withWorkers(1, 1)
                .withBatching(8, Duration.ofMillis(5)).withMaxQueue(1000).withCalibration(Duration.ZERO));
        List<Future<InferenceResult>> results = new ArrayList<>();
        Future<InferenceResult> poisoned = null;
        for (int i = 0; i < 60; i++) {
            float v = i == 30 ? -1e7f : i;
            Future<InferenceResult> f = engine.infer(key,
                    InferenceRequest.of(Tensor.ofFloats("x", new long[] {1, 4}, v, v, v, v)));
            if (i == 30) {
                poisoned = f;
            } else {
                results.add(f);
            }
        }
        InferenceFailedException error =
                assertInstanceOf(InferenceFailedException.class, failure(poisoned));
        assertTrue(error.getMessage().contains("poison value in input"), error.getMessage());

        int failed = 0;
        for (int i = 0; i < results.size(); i++) {
            Future<InferenceResult> f = results.get(i);
            Throwable err = Fixtures.errorOf(f);
            if (err != null) {
                assertInstanceOf(InferenceFailedException.class, err);
                failed++;
            } else {
                float v = i < 30 ? i : i + 1;
                assertEquals(2 * v, f.result().output("doubled").toFloats()[0]);
            }
        }
        List<RequestFacts> mine = factsOf(key);
        Set<Long> failedBatches = mine.stream().filter(f -> f.outcome() == RequestOutcome.FAILED)
                .map(RequestFacts::batchId).collect(Collectors.toSet());
        assertEquals(1, failedBatches.size(), "failures come from one batch");
        assertEquals(failed + 1, mine.stream().filter(f -> f.outcome() == RequestOutcome.FAILED).count());
        assertTrue(mine.stream().filter(f -> f.outcome() == RequestOutcome.SUCCESS)
                .noneMatch(f -> failedBatches.contains(f.batchId())));

        InferenceResult after = await(engine.infer(key,
                InferenceRequest.of(Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4))));
        assertEquals(List.of(2f, 4f, 6f, 8f), boxed(after.output("doubled").toFloats()));
    }

    private static List<Float> boxed(float[] values) {
        List<Float> out = new ArrayList<>();
        for (float v : values) {
            out.add(v);
        }
        return out;
    }

    @Test
    @DisplayName("requests that do not fit the manifest are refused as invalid input")
    void invalidInputsAreRefused() {
        ModelKey key = load("multi_io", PoolConfig.defaults());
        Tensor x = Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4);
        Tensor seq = Tensor.ofFloats("seq", new long[] {1, 2}, 1, 2);
        List<InferenceRequest> bad = List.of(
                InferenceRequest.of(x),
                InferenceRequest.of(x, seq, Tensor.ofFloats("z", new long[] {1, 1}, 0)),
                InferenceRequest.of(Tensor.ofFloats("x", new long[] {1, 3}, 1, 2, 3), seq),
                InferenceRequest.of(Tensor.ofDoubles("x", new long[] {1, 4}, 1, 2, 3, 4), seq),
                InferenceRequest.of(x, Tensor.ofFloats("seq", new long[] {2, 1}, 1, 2)),
                InferenceRequest.of(x, seq).withOutputs("nope"));
        for (InferenceRequest request : bad) {
            assertInstanceOf(InvalidInputException.class, failure(engine.infer(key, request)));
        }
        assertEquals(bad.size(),
                factsOf(key).stream().filter(f -> f.outcome() == RequestOutcome.INVALID).count());
    }

    @Test
    @DisplayName("requests with different variable dimensions are never merged, yet all succeed")
    void onlyCompatibleRequestsMerge() {
        ModelKey key = load("multi_io", PoolConfig.defaults().withWorkers(1, 1)
                .withBatching(16, Duration.ofMillis(5)).withMaxQueue(1000));
        List<Future<InferenceResult>> results = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            int length = 2 + i % 3;
            float[] seq = new float[length];
            Arrays.fill(seq, i);
            lengths.add(length);
            results.add(engine.infer(key, InferenceRequest.of(
                    Tensor.ofFloats("x", new long[] {1, 4}, 0, 0, 0, 0),
                    Tensor.ofFloats("seq", new long[] {1, length}, seq))));
        }
        for (int i = 0; i < results.size(); i++) {
            double sum = await(results.get(i)).output("seq_sum").toDoubles()[0];
            assertEquals((double) i * lengths.get(i), sum, 1e-6);
        }
        assertTrue(factsOf(key).stream().anyMatch(f -> f.batchSize() > 1), "no batch formed");
    }

    @Test
    @DisplayName("past the memory budget the least recently used idle model unloads, then reloads on demand")
    void lruUnloadAndColdReload() {
        ServingEngine small = await(ServingEngine.create(vertx,
                // the per-host overhead is charged too; this test counts the models' own bytes alone
                ServingConfig.defaults().withMemoryBudget(150)
                        .withHosts(HostConfig.defaults().withOverheadBytes(0)), new SimpleMeterRegistry()));
        try {
            PoolConfig charged100 = PoolConfig.defaults().withMemoryBytes(100);
            ModelKey a = new ModelKey("tests", "digits_mlp", "a");
            ModelKey b = new ModelKey("tests", "digits_cnn", "b");
            ModelManifest mlp = Fixtures.manifest("digits_mlp");
            StoredArtifact mlpFile = Fixtures.store(store, "digits_mlp.pt");
            await(small.load(a, mlpFile, mlp, charged100));
            InferenceResult warm = await(small.infer(a, InferenceRequest.of(mlp.example().get(0))));
            assertFalse(warm.facts().coldStart());

            await(small.load(b, Fixtures.store(store, "digits_cnn.pt"), Fixtures.manifest("digits_cnn"),
                    charged100));
            assertEquals(State.UNLOADED, small.status(a).orElseThrow().state());
            assertEquals(State.LOADED, small.status(b).orElseThrow().state());

            InferenceResult cold = await(small.infer(a, InferenceRequest.of(mlp.example().get(0))));
            assertTrue(cold.facts().coldStart());
            assertTrue(cold.facts().loadNanos() > 0);
            Fixtures.assertClose(warm.output("probabilities"), cold.output("probabilities"), 1e-6);
            assertEquals(State.LOADED, small.status(a).orElseThrow().state());
            assertEquals(State.UNLOADED, small.status(b).orElseThrow().state());

            InferenceResult again = await(small.infer(a, InferenceRequest.of(mlp.example().get(0))));
            assertFalse(again.facts().coldStart());
            assertEquals(0, again.facts().loadNanos());
        } finally {
            await(small.close());
        }
    }

    @Test
    @DisplayName("idle workers above the minimum stop; with a minimum of zero the model unloads")
    void idleWorkersStop() {
        ModelKey key = load("digits_mlp", PoolConfig.defaults().withWorkers(0, 2)
                .withBatching(1, Duration.ZERO).withIdleTimeout(Duration.ofMillis(300)).withMaxQueue(500));
        assertEquals(0, engine.status(key).orElseThrow().workers());
        float[][] digits = randomDigits(200, 5);
        List<Future<InferenceResult>> burst = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            burst.add(engine.infer(key, digits(digits, i, 1)));
        }
        burst.forEach(Fixtures::await);
        assertTrue(engine.status(key).orElseThrow().workers() >= 1);
        assertFalse(factsOf(key).get(0).coldStart(), "loaded by load(): not a cold start");

        waitUntil(() -> engine.status(key).orElseThrow().state() == State.UNLOADED);
        assertEquals(0, engine.status(key).orElseThrow().workers());
        InferenceResult cold = await(engine.infer(key, digits(digits, 0, 1)));
        assertTrue(cold.facts().coldStart());
    }

    @Test
    @DisplayName("shutdown lets queued work finish or fail cleanly, then refuses requests")
    void shutdownDrains() {
        ServingEngine doomed = await(ServingEngine.create(vertx, ServingConfig.defaults()
                .withShutdownTimeout(Duration.ofSeconds(5)), new SimpleMeterRegistry()));
        ModelKey key = new ModelKey("tests", "digits_mlp", "doomed");
        await(doomed.load(key, Fixtures.store(store, "digits_mlp.pt"), Fixtures.manifest("digits_mlp"),
                PoolConfig.defaults().withWorkers(1, 1).withBatching(4, Duration.ofMillis(1))
                        .withMaxQueue(1000)));
        float[][] digits = randomDigits(200, 6);
        List<Future<InferenceResult>> results = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            results.add(doomed.infer(key, digits(digits, i, 1)));
        }
        await(doomed.close());
        int succeeded = 0;
        for (Future<InferenceResult> f : results) {
            Throwable err = Fixtures.errorOf(f);
            if (err == null) {
                succeeded++;
            } else {
                assertInstanceOf(OverloadedException.class, err);
            }
        }
        assertTrue(succeeded > 0);
        assertInstanceOf(OverloadedException.class, failure(doomed.infer(key, digits(digits, 0, 1))));
        assertTrue(doomed.status(key).isEmpty());
    }

    @Test
    @DisplayName("unloading a version removes it and its meters")
    void unloadForgetsTheVersion() {
        ModelKey key = load("diabetes_regressor", PoolConfig.defaults());
        assertNotNull(registry.find("modelmarket.serving.queue.depth")
                .tags("model", key.model(), "version", key.version()).gauge());
        await(engine.unload(key));
        assertTrue(engine.status(key).isEmpty());
        assertNull(registry.find("modelmarket.serving.queue.depth")
                .tags("model", key.model(), "version", key.version()).gauge());
        assertInstanceOf(ModelNotLoadedException.class, failure(engine.infer(key,
                InferenceRequest.of(Fixtures.manifest("diabetes_regressor").example().get(0)))));
    }

    @Test
    @DisplayName("calibration gives every fixture model a batch cap between 1 and maxBatchSize, shown in status and metrics")
    void calibrationCapsEveryFixture() {
        for (String fixture : List.of("digits_mlp", "digits_cnn", "diabetes_regressor", "dtypes", "fail_on_poison",
                "hang_on_poison", "multi_io")) {
            PoolConfig config = PoolConfig.defaults().withBatching(64, Duration.ofMillis(5));
            long start = System.nanoTime();
            ModelKey key = load(fixture, config);
            long loadMs = (System.nanoTime() - start) / 1_000_000;
            ModelStatus status = engine.status(key).orElseThrow();
            System.out.printf("calibration: %-20s cap %2d of %d; load() took %d ms, of which loading %d ms%n", fixture,
                    status.batchCap(), config.maxBatchSize(), loadMs, status.lastLoad().loadTime().toMillis());
            assertTrue(status.batchCap() >= 1 && status.batchCap() <= config.maxBatchSize(), fixture);
            assertEquals(status.batchCap(), registry.get("modelmarket.serving.batch.cap")
                    .tags("model", key.model(), "version", key.version()).gauge().value(), fixture);
            assertTrue(loadMs < 30_000, fixture + " took " + loadMs + " ms to load and calibrate");
            if (fixture.equals("multi_io")) {
                assertEquals(64, status.batchCap(), "a variable sequence dimension: not calibrated");
            }
        }
        ModelStatus off = engine.status(load("digits_mlp", PoolConfig.defaults().withCalibration(Duration.ZERO)))
                .orElseThrow();
        assertEquals(16, off.batchCap(), "calibration off keeps maxBatchSize");
    }

    @Test
    @DisplayName("a heavy model (the benchmarks' ResNet-18, when built) is calibrated within its budget")
    void calibrationOfAHeavyModel() throws Exception {
        Path dir = Path.of(System.getProperty("modelmarket.fixtures", "fixtures"), "..", "..", "bench", "models", "out");
        Assumptions.assumeTrue(Files.exists(dir.resolve("resnet18.pt")), "bench/models/out/resnet18.pt not built");
        StoredArtifact artifact;
        try (InputStream in = Files.newInputStream(dir.resolve("resnet18.pt"))) {
            artifact = store.put(in, 100L << 20);
        }
        ModelManifest manifest = ModelManifest.fromJson(new JsonObject(Files.readString(dir.resolve("resnet18.json"))));
        ModelKey key = new ModelKey("tests", "resnet18", String.valueOf(++versions));
        PoolConfig config = PoolConfig.defaults();
        long start = System.nanoTime();
        await(engine.load(key, artifact, manifest, config));
        long loadMs = (System.nanoTime() - start) / 1_000_000;
        ModelStatus status = engine.status(key).orElseThrow();
        System.out.printf("calibration: resnet18 cap %d of %d; load() took %d ms, of which loading %d ms%n",
                status.batchCap(), config.maxBatchSize(), loadMs, status.lastLoad().loadTime().toMillis());
        assertTrue(status.batchCap() >= 1 && status.batchCap() <= config.maxBatchSize());
        long calibrationMs = loadMs - status.lastLoad().loadTime().toMillis();
        assertTrue(calibrationMs < config.calibrationBudget().toMillis() * 3, calibrationMs + " ms");
        await(engine.unload(key));
    }

    private static void waitUntil(BooleanSupplier condition) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .pollInterval(java.time.Duration.ofMillis(20)).until(condition::getAsBoolean);
    }
}
