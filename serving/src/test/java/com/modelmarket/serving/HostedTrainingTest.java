package com.modelmarket.serving;

import static com.modelmarket.serving.Fixtures.await;
import static com.modelmarket.serving.Fixtures.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TorchRuntime;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import com.modelmarket.serving.training.CsvDataset;
import com.modelmarket.serving.training.CsvLimits;
import com.modelmarket.serving.training.Hyperparameters;
import com.modelmarket.serving.training.JobPriority;
import com.modelmarket.serving.training.RecipeTrainer;
import com.modelmarket.serving.training.TrainingFailedException;
import com.modelmarket.serving.training.TrainingOptions;
import com.modelmarket.serving.training.TrainingProgress;
import com.modelmarket.serving.training.TrainingRecipe;
import com.modelmarket.serving.training.TrainingResult;
import com.modelmarket.serving.training.TrainingTask;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recipe training through the engine in its default runtime: each job in a sandboxed job process
 * of its own at the lowest CPU priority, reporting its epochs, stopping on cancellation, and
 * learning exactly what the same recipe learns in this JVM.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostedTrainingTest {

    /** Linux's SCHED_IDLE policy number, field 41 of /proc/PID/stat. */
    private static final int SCHED_IDLE = 5;
    private static final String HOST_MAIN = "com.modelmarket.serving.host.HostMain";

    private Vertx vertx;
    private ServingEngine engine;
    private ModelStore store;
    private StoredArtifact csv;
    private CsvDataset data;
    private TrainingRecipe recipe;

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
        vertx = Vertx.vertx();
        store = new ModelStore(dir.resolve("models"));
        engine = await(ServingEngine.create(vertx, ServingConfig.defaults(), new SimpleMeterRegistry()));
        csv = Fixtures.store(store, "datasets/breast_cancer.csv");
        try (InputStream in = Files.newInputStream(csv.path())) {
            data = CsvDataset.parse(in, "label", TrainingTask.CLASSIFICATION, CsvLimits.DEFAULT);
        }
        recipe = TrainingRecipe.fromJson(Fixtures.json("recipes/mlp_classifier"));
    }

    @AfterAll
    void stop() {
        await(engine.close());
        await(vertx.close());
    }

    private TrainingRun run(Hyperparameters hp) {
        return new TrainingRun("tenant-a", csv, "label", TrainingTask.CLASSIFICATION, CsvLimits.DEFAULT, recipe, hp);
    }

    @Test
    @DisplayName("a job trains in a SCHED_IDLE process of its own, reports every epoch, and learns what the same seed learns in this JVM")
    void trainsInAJobProcess() throws Exception {
        Hyperparameters hp = recipe.resolve(new JsonObject().put("epochs", 6).put("hiddenSizes", new JsonArray().add(8))
                .put("seed", 11));
        List<TrainingProgress> epochs = new CopyOnWriteArrayList<>();
        List<Integer> policies = new CopyOnWriteArrayList<>();
        TrainingOptions options = TrainingOptions.DEFAULT.withProgress(p -> {
            epochs.add(p);
            policies.addAll(jobPolicies());
        });
        TrainedArtifact trained = await(engine.train(run(hp), options));
        try {
            assertEquals(trained.report().getInteger("epochsRun"), epochs.size(), "one report per epoch: " + epochs);
            assertEquals(List.of(1, 2, 3, 4, 5, 6), epochs.stream().map(TrainingProgress::epoch).toList());
            assertTrue(!policies.isEmpty() && policies.stream().allMatch(p -> p == SCHED_IDLE),
                    "the job's processes run SCHED_IDLE: " + policies);

            TorchRuntime.start(1, 1, false);
            TrainingResult here = new RecipeTrainer().train(recipe, hp, data, TrainingOptions.DEFAULT);
            try {
                assertEquals(here.metrics().toJson(), trained.report().getJsonObject("metrics"),
                        "the same seed learns the same model in a job process as in this JVM");
                assertEquals(here.reportJson().getJsonObject("split"), trained.report().getJsonObject("split"));
            } finally {
                here.model().close();
            }

            StoredArtifact archive;
            try (InputStream in = Files.newInputStream(trained.file())) {
                archive = store.put(in, 1 << 20);
            }
            ModelManifest manifest = ModelManifest.fromJson(trained.manifest().copy().put("name", "breast_cancer"));
            ModelKey key = new ModelKey("tenant-a", "breast_cancer", "1");
            await(engine.load(key, archive, manifest, PoolConfig.defaults()));
            InferenceResult out = await(engine.infer(key, InferenceRequest.of(
                    Tensor.ofFloats("features", new long[] {1, data.featureCount()}, data.row(0)))));
            assertEquals(2, out.output("probabilities").toFloats().length);
            await(engine.unload(key));
        } finally {
            Files.deleteIfExists(trained.file());
        }
        waitUntil(() -> jobPolicies().isEmpty(), "the job's process ended with the job");
    }

    @Test
    @DisplayName("a cancelled job ends within two seconds, as cancelled, and its process is gone")
    void cancels() throws Exception {
        Hyperparameters hp = endless();
        AtomicBoolean cancel = new AtomicBoolean();
        long[] cancelledAt = new long[1];
        Future<TrainedArtifact> job = engine.train(run(hp), TrainingOptions.DEFAULT
                .withCancellation(cancel::get)
                .withProgress(p -> {
                    if (cancelledAt[0] == 0) {
                        cancelledAt[0] = System.nanoTime();
                        cancel.set(true);
                    }
                }));
        Throwable err = failure(job);
        long tookMs = (System.nanoTime() - cancelledAt[0]) / 1_000_000;
        assertInstanceOf(TrainingFailedException.class, err);
        assertEquals(TrainingFailedException.Reason.CANCELLED, ((TrainingFailedException) err).reason());
        assertTrue(tookMs < 2000, "stopped " + tookMs + " ms after the cancellation");
        waitUntil(() -> jobPolicies().isEmpty(), "the job's process ended with the job");
    }

    @Test
    @DisplayName("a time limit ends a job with its reason, and priority low runs it at nice 19")
    void timeLimitAndPriority() throws Exception {
        Hyperparameters hp = endless();
        List<Integer> nices = new CopyOnWriteArrayList<>();
        Throwable err = failure(engine.train(run(hp), TrainingOptions.DEFAULT.withTimeLimit(Duration.ofSeconds(2))
                .withPriority(JobPriority.LOW, 1).withProgress(p -> nices.addAll(jobNiceness()))));
        assertInstanceOf(TrainingFailedException.class, err);
        assertEquals(TrainingFailedException.Reason.TIME_LIMIT, ((TrainingFailedException) err).reason());
        assertTrue(!nices.isEmpty() && nices.stream().allMatch(n -> n == 19), "nice 19: " + nices);
    }

    @Test
    @DisplayName("a job whose process is killed (kill -9) fails at once and leaves no file behind")
    void processKilled() throws Exception {
        List<Long> killed = new CopyOnWriteArrayList<>();
        long[] killedAt = new long[1];
        Throwable err = failure(engine.train(run(endless()), TrainingOptions.DEFAULT.withProgress(p -> {
            if (killed.isEmpty()) {
                jobPids().forEach(pid -> ProcessHandle.of(pid).ifPresent(h -> {
                    killed.add(pid);
                    h.destroyForcibly();
                }));
                killedAt[0] = System.nanoTime();
            }
        })));
        long tookMs = (System.nanoTime() - killedAt[0]) / 1_000_000;
        assertEquals(1, killed.size(), "one job process: " + killed);
        assertInstanceOf(OverloadedException.class, err, String.valueOf(err));
        assertTrue(tookMs < 2000, "failed " + tookMs + " ms after the kill");
        waitUntil(() -> jobPolicies().isEmpty(), "the job's sandbox is gone");
    }

    /** More epochs than a recipe's schema allows (the engine takes resolved hyperparameters as they are). */
    private static Hyperparameters endless() {
        return new Hyperparameters(100_000, 0.01, 1, List.of(8), 0, 0, 0.2, 1);
    }

    /** The scheduling policy of every job host's JVM. */
    private static List<Integer> jobPolicies() {
        return jobStats().stream().map(f -> Integer.parseInt(f[38])).toList(); // field 41: policy
    }

    private static List<Integer> jobNiceness() {
        return jobStats().stream().map(f -> Integer.parseInt(f[16])).toList(); // field 19: nice
    }

    /**
     * /proc/PID/stat fields after the command name (field 3 first) of the job hosts' JVMs: the java
     * processes inside a sandbox whose scratch folder is a training job's ({@code train-…}), not a
     * serving host's, nor bubblewrap's own two processes that wait for the JVM.
     */
    private static List<String[]> jobStats() {
        return jobPids().stream()
                .map(pid -> {
                    try {
                        String stat = Files.readString(Path.of("/proc", "" + pid, "stat"));
                        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    } catch (IOException e) {
                        return null;
                    }
                })
                .filter(f -> f != null)
                .toList();
    }

    private static List<Long> jobPids() {
        return ProcessHandle.current().descendants()
                .filter(h -> argv(h).contains("bwrap") && String.join(" ", argv(h)).contains("/train-"))
                .flatMap(ProcessHandle::descendants)
                .distinct()
                .filter(h -> {
                    List<String> argv = argv(h);
                    return !argv.isEmpty() && argv.get(0).endsWith("/java") && argv.contains(HOST_MAIN);
                })
                .map(ProcessHandle::pid)
                .toList();
    }

    private static List<String> argv(ProcessHandle h) {
        try {
            return List.of(Files.readString(Path.of("/proc", "" + h.pid(), "cmdline")).split("\0"));
        } catch (IOException e) {
            return List.of();
        }
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long until = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("not within 5 s: " + what);
            }
            Thread.sleep(50);
        }
    }
}
