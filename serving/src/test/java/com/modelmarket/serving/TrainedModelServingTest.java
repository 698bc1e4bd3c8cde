package com.modelmarket.serving;

import static com.modelmarket.serving.Fixtures.await;
import static com.modelmarket.serving.Fixtures.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.modelmarket.serving.ModelRejectedException.Check;
import com.modelmarket.serving.engine.BatchCalibration;
import com.modelmarket.serving.model.ArtifactKind;
import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.ModelRunner;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TorchRuntime;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import com.modelmarket.serving.training.CsvDataset;
import com.modelmarket.serving.training.CsvLimits;
import com.modelmarket.serving.training.RecipeTrainer;
import com.modelmarket.serving.training.TrainedModel;
import com.modelmarket.serving.training.TrainingOptions;
import com.modelmarket.serving.training.TrainingRecipe;
import com.modelmarket.serving.training.TrainingResult;
import com.modelmarket.serving.training.TrainingTask;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A model trained on the breast-cancer fixture, served like TorchScript through both runtimes:
 * sandboxed model hosts (the default) and in-process. What the engine answers must be what {@link
 * TrainedModel#predict} computes, and a trained-model archive must be refused as the other kind,
 * and the other kind as it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainedModelServingTest {

    enum Runtime { HOSTS, IN_PROCESS }

    private static final String REFUSED_OWNER = "refused";

    private Vertx vertx;
    private ModelStore store;
    private final Map<Runtime, ServingEngine> engines = new LinkedHashMap<>();
    private final List<RequestFacts> facts = new java.util.concurrent.CopyOnWriteArrayList<>();
    private Path archive;
    private StoredArtifact artifact;
    private ModelManifest manifest;
    private float[][] heldOut;
    private float[][] expected;
    private int versions;

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
        vertx = Vertx.vertx();
        store = new ModelStore(dir.resolve("models"));
        engines.put(Runtime.HOSTS, await(ServingEngine.create(vertx, ServingConfig.defaults(),
                new SimpleMeterRegistry())));
        engines.put(Runtime.IN_PROCESS, await(ServingEngine.create(vertx, ServingConfig.defaults().inProcess(),
                new SimpleMeterRegistry())));
        engines.values().forEach(e -> e.addRequestListener(facts::add));

        TorchRuntime.start(1, 1, false); // one intra-op thread: the determinism the recipes promise
        CsvDataset data;
        try (InputStream in = Files.newInputStream(Fixtures.file("datasets/breast_cancer.csv"))) {
            data = CsvDataset.parse(in, "label", TrainingTask.CLASSIFICATION, CsvLimits.DEFAULT);
        }
        TrainingRecipe recipe = TrainingRecipe.fromJson(Fixtures.json("recipes/mlp_classifier"));
        JsonObject small = new JsonObject().put("epochs", 4).put("hiddenSizes", new JsonArray().add(8)).put("seed", 7);
        TrainingResult result = new RecipeTrainer().train(recipe, recipe.resolve(small), data, TrainingOptions.DEFAULT);
        try (TrainedModel model = result.model()) {
            archive = dir.resolve("breast_cancer.trained.zip");
            model.save(archive);
            heldOut = data.rows(result.split().heldOut());
            expected = model.predict(heldOut);
            manifest = ModelManifest.fromJson(model.manifestJson("breast_cancer"));
        }
        artifact = put(Files.readAllBytes(archive));
    }

    @AfterAll
    void stop() {
        engines.values().forEach(e -> await(e.close()));
        await(vertx.close());
    }

    private StoredArtifact put(byte[] bytes) throws IOException {
        return store.put(new ByteArrayInputStream(bytes), 1 << 20);
    }

    private ModelKey nextKey(String owner) {
        return new ModelKey(owner, "breast_cancer", String.valueOf(++versions));
    }

    private static Tensor features(float[][] rows, int from, int count) {
        int n = rows[0].length;
        float[] flat = new float[count * n];
        for (int i = 0; i < count; i++) {
            System.arraycopy(rows[from + i], 0, flat, i * n, n);
        }
        return Tensor.ofFloats("features", new long[] {count, n}, flat);
    }

    private static void assertRowsClose(float[][] want, int from, Tensor got) {
        int k = want[0].length;
        assertEquals(DataType.FP32, got.datatype());
        assertEquals(k, got.dim(1));
        float[] flat = got.toFloats();
        for (int r = 0; r < got.dim(0); r++) {
            for (int c = 0; c < k; c++) {
                float e = want[from + r][c];
                float a = flat[r * k + c];
                assertTrue(Math.abs(e - a) <= 1e-5, "row " + (from + r) + "[" + c + "]: expected " + e + ", got " + a);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Runtime.class)
    @DisplayName("a batch of held-out rows gets exactly what the trained model predicts")
    void servesWhatTheModelPredicts(Runtime runtime) {
        ServingEngine engine = engines.get(runtime);
        ModelKey key = nextKey("tests");
        LoadReport report = await(engine.load(key, artifact, manifest, PoolConfig.defaults()));
        assertEquals(artifact.sha256(), report.sha256());
        assertTrue(report.memoryBytes() > artifact.sizeBytes(), "a trained model costs more than its archive: "
                + report.memoryBytes());

        InferenceResult result = await(engine.infer(key, InferenceRequest.of(features(heldOut, 0, heldOut.length))));
        Tensor probabilities = result.output("probabilities");
        assertEquals(heldOut.length, probabilities.dim(0));
        assertRowsClose(expected, 0, probabilities);
        await(engine.unload(key));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Runtime.class)
    @DisplayName("concurrent single-row requests are batched together and each gets its own row's answer")
    void concurrentRowsAreBatched(Runtime runtime) {
        ServingEngine engine = engines.get(runtime);
        ModelKey key = nextKey("tests");
        await(engine.load(key, artifact, manifest, PoolConfig.defaults().withWorkers(1, 1)
                .withBatching(16, Duration.ofMillis(20)).withMaxQueue(1000)));
        int count = Math.min(40, heldOut.length);
        List<Future<InferenceResult>> results = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            results.add(engine.infer(key, InferenceRequest.of(features(heldOut, i, 1))));
        }
        for (int i = 0; i < count; i++) {
            assertRowsClose(expected, i, await(results.get(i)).output("probabilities"));
        }
        int largest = facts.stream().filter(f -> f.model().equals(key)).mapToInt(RequestFacts::batchSize).max()
                .orElse(0);
        assertTrue(largest > 1, "no batch formed");
        await(engine.unload(key));
    }

    @Test
    @DisplayName("calls from several threads on one trained model, and calibration's zero batches, all run")
    void runnerIsSharedAndCalibrates() throws Exception {
        try (ModelRunner runner = ModelRunner.load(archive, manifest, Device.cpu())) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<List<Tensor>>> calls = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    int row = i;
                    calls.add(pool.submit(() -> runner.run(List.of(features(heldOut, row, 1)))));
                }
                for (int i = 0; i < calls.size(); i++) {
                    assertRowsClose(expected, i, calls.get(i).get().get(0));
                }
            } finally {
                pool.shutdownNow();
            }
            BatchCalibration.Result calibrated = BatchCalibration.run(size -> {
                List<Tensor> zeros = BatchCalibration.syntheticInputs(manifest, size).orElseThrow();
                long start = System.nanoTime();
                runner.run(zeros);
                return System.nanoTime() - start;
            }, 8, Duration.ofMillis(200), System::nanoTime);
            assertTrue(calibrated.cap() >= 1 && calibrated.cap() <= 8, calibrated.table());
        }
    }

    // --- refusals ---------------------------------------------------------------------------------

    /** The archive's entries, in order. */
    private Map<String, byte[]> entries() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(archive))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                entries.put(e.getName(), zip.readAllBytes());
            }
        }
        return entries;
    }

    private static byte[] zip(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** Refused with {@code check}, saying {@code why}; and nothing of it stays registered or hosted. */
    private void assertRefused(ServingEngine engine, StoredArtifact file, ModelManifest m, Check check, String why) {
        ModelKey key = nextKey(REFUSED_OWNER);
        Throwable err = failure(engine.load(key, file, m, PoolConfig.defaults()));
        ModelRejectedException e = assertInstanceOf(ModelRejectedException.class, err, String.valueOf(err));
        assertEquals(check, e.check(), e.getMessage());
        assertTrue(e.getMessage().contains(why), e.getMessage());
        assertTrue(engine.status(key).isEmpty());
        assertFalse(engine.models().stream().anyMatch(s -> s.key().equals(key)));
        assertTrue(engine.hosts().stream().filter(h -> h.owner().equals(REFUSED_OWNER)).allMatch(h -> h.models() == 0),
                engine.hosts().toString());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Runtime.class)
    @DisplayName("a damaged trained-model archive is refused, naming what is wrong")
    void damagedArchivesAreRefused(Runtime runtime) throws IOException {
        ServingEngine engine = engines.get(runtime);
        Map<String, byte[]> third = entries();
        third.put("extra.txt", "hello".getBytes(StandardCharsets.UTF_8));
        assertRefused(engine, put(zip(third)), manifest, Check.FORMAT, "3 entries (trained-model.json, model.params, extra.txt)");

        Map<String, byte[]> foreign = entries();
        JsonObject meta = new JsonObject(new String(foreign.get("trained-model.json"), StandardCharsets.UTF_8));
        foreign.put("trained-model.json", meta.put("format", "someone.else").encode().getBytes(StandardCharsets.UTF_8));
        assertRefused(engine, put(zip(foreign)), manifest, Check.FORMAT, "format someone.else");

        Map<String, byte[]> shortParams = entries();
        byte[] params = shortParams.get("model.params");
        shortParams.put("model.params", Arrays.copyOf(params, params.length / 2));
        assertRefused(engine, put(zip(shortParams)), manifest, Check.LOAD, "the trained model cannot be loaded");

        byte[] whole = Files.readAllBytes(archive);
        assertRefused(engine, put(Arrays.copyOf(whole, whole.length / 2)), manifest, Check.FORMAT, "truncated");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Runtime.class)
    @DisplayName("a manifest whose input or output width disagrees with the trained model is refused on the schema check")
    void manifestMustFitTheModel(Runtime runtime) {
        ServingEngine engine = engines.get(runtime);
        int n = heldOut[0].length;
        JsonObject narrow = manifest.toJson();
        narrow.getJsonArray("inputs").getJsonObject(0).put("shape", new JsonArray().add(-1).add(n - 1));
        narrow.getJsonObject("example").getJsonArray("inputs").set(0,
                Tensor.ofFloats("features", new long[] {1, n - 1}, new float[n - 1]).toJson());
        assertRefused(engine, artifact, ModelManifest.fromJson(narrow), Check.SCHEMA, n + " features");

        JsonObject wide = manifest.toJson();
        wide.getJsonArray("outputs").getJsonObject(0).put("shape", new JsonArray().add(-1).add(3)).remove("labels");
        assertRefused(engine, artifact, ModelManifest.fromJson(wide), Check.SCHEMA, "FP32[-1, 2]");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Runtime.class)
    @DisplayName("no kind confusion: TorchScript declared a trained model, and a trained model declared TorchScript, are refused")
    void kindsAreNotConfused(Runtime runtime) throws IOException {
        ServingEngine engine = engines.get(runtime);
        // TorchScript that reads files: never loaded as a trained model, so it never skips its checks
        ModelManifest probe = Fixtures.manifest("file_probe").withArtifact(ArtifactKind.TRAINED_MODEL);
        assertRefused(engine, Fixtures.store(store, "file_probe.pt"), probe, Check.FORMAT, "trained-model.json");
        ModelManifest digits = Fixtures.manifest("digits_mlp").withArtifact(ArtifactKind.TRAINED_MODEL);
        assertRefused(engine, Fixtures.store(store, "digits_mlp.pt"), digits, Check.FORMAT, "trained-model.json");

        JsonObject declaredTorchScript = manifest.toJson().put("artifact", "torchscript");
        assertRefused(engine, artifact, ModelManifest.fromJson(declaredTorchScript), Check.FORMAT, "TorchScript");
        JsonObject undeclared = manifest.toJson();
        undeclared.remove("artifact");
        assertRefused(engine, artifact, ModelManifest.fromJson(undeclared), Check.FORMAT, "TorchScript");
    }
}
