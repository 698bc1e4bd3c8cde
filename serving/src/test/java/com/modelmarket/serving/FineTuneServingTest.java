package com.modelmarket.serving;

import static com.modelmarket.serving.Fixtures.await;
import static com.modelmarket.serving.Fixtures.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.model.ArtifactCheck;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import com.modelmarket.serving.training.CsvDataset;
import com.modelmarket.serving.training.CsvLimits;
import com.modelmarket.serving.training.FineTuneRefusedException;
import com.modelmarket.serving.training.FineTuneReport;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import com.modelmarket.serving.training.TrainingOptions;
import com.modelmarket.serving.training.HeldOutMetrics;
import com.modelmarket.serving.training.TrainingFailedException;
import com.modelmarket.serving.training.TrainingTask;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Fine-tuning a publisher's TorchScript through the engine, in its sandboxed model host (the default runtime). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FineTuneServingTest {

    private static final String OWNER = "tuner";

    private Vertx vertx;
    private ServingEngine engine;
    private ModelStore store;
    private ModelManifest manifest;
    private StoredArtifact base;
    private FineTuneRows rows;
    private int versions;

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
        vertx = Vertx.vertx();
        store = new ModelStore(dir.resolve("models"));
        engine = await(ServingEngine.create(vertx, ServingConfig.defaults(), new SimpleMeterRegistry()));
        manifest = Fixtures.manifest("breast_cancer_mlp");
        base = Fixtures.store(store, "breast_cancer_mlp.pt");
        try (InputStream in = Files.newInputStream(Fixtures.file("datasets/breast_cancer.csv"))) {
            rows = FineTuneRows.of(CsvDataset.parse(in, "label", TrainingTask.CLASSIFICATION, CsvLimits.DEFAULT),
                    manifest);
        }
    }

    @AfterAll
    void stop() {
        await(engine.close());
        await(vertx.close());
    }

    private static TrainingOptions options(Duration limit, java.util.function.BooleanSupplier cancelled) {
        return TrainingOptions.DEFAULT.withTimeLimit(limit).withCancellation(cancelled);
    }

    private ModelKey nextKey() {
        return new ModelKey(OWNER, "breast_cancer_mlp", String.valueOf(++versions));
    }

    @Test
    @DisplayName("the tuned model passes the upload checks, loads and serves, and is at least as accurate on the held-out rows as the base, measured through the engine")
    void tunesAndServes() throws IOException {
        ModelKey baseKey = nextKey();
        FineTuneResult result = await(engine.fineTune(baseKey, base, manifest, rows, FineTuneSettings.DEFAULT, options(Duration.ofMinutes(2), () -> false)));
        FineTuneReport report = result.report();
        System.out.println("fine-tuned in a model host: " + report.toJson().encode());
        try {
            ArtifactCheck.check(result.file(), manifest, true);
            StoredArtifact tuned;
            try (InputStream in = Files.newInputStream(result.file())) {
                tuned = store.put(in, 10 << 20);
            }
            ModelKey tunedKey = nextKey();
            await(engine.load(baseKey, base, manifest, PoolConfig.defaults()));
            await(engine.load(tunedKey, tuned, manifest, PoolConfig.defaults()));
            int[] heldOut = report.heldOutRows();
            double before = accuracy(baseKey, heldOut);
            double after = accuracy(tunedKey, heldOut);
            System.out.printf("held-out accuracy through the engine: base %.4f, tuned %.4f%n", before, after);
            assertTrue(after >= before, "base " + before + ", tuned " + after);
            assertTrue(after > 0.9, "tuned " + after);
            assertEquals(((HeldOutMetrics.Classification) report.tuned()).accuracy(), after, 1e-9);
            assertEquals(((HeldOutMetrics.Classification) report.base()).accuracy(), before, 1e-9);
            await(engine.unload(baseKey));
            await(engine.unload(tunedKey));
        } finally {
            Files.deleteIfExists(result.file());
        }
    }

    private double accuracy(ModelKey key, int[] heldOut) {
        int n = rows.features()[0].length;
        float[] flat = new float[heldOut.length * n];
        for (int i = 0; i < heldOut.length; i++) {
            System.arraycopy(rows.features()[heldOut[i]], 0, flat, i * n, n);
        }
        InferenceResult out = await(engine.infer(key, InferenceRequest.of(
                Tensor.ofFloats("features", new long[] {heldOut.length, n}, flat))));
        float[] p = out.output("probabilities").toFloats();
        int correct = 0;
        for (int i = 0; i < heldOut.length; i++) {
            int predicted = p[2 * i + 1] > p[2 * i] ? 1 : 0;
            if (predicted == (int) rows.labels()[heldOut[i]]) {
                correct++;
            }
        }
        return (double) correct / heldOut.length;
    }

    @Test
    @DisplayName("rows of the wrong width and a model with an image input are refused, saying why")
    void refuses() {
        FineTuneRows narrow = new FineTuneRows(new float[8][13], new float[8]);
        Throwable wide = failure(engine.fineTune(nextKey(), base, manifest, narrow, FineTuneSettings.DEFAULT, options(Duration.ofMinutes(1), () -> false)));
        assertInstanceOf(FineTuneRefusedException.class, wide);
        assertTrue(wide.getMessage().contains("13 features; the model takes 30"), wide.getMessage());

        StoredArtifact cnn = Fixtures.store(store, "digits_cnn.pt");
        Throwable image = failure(engine.fineTune(nextKey(), cnn, Fixtures.manifest("digits_cnn"),
                new FineTuneRows(new float[8][64], new float[8]), FineTuneSettings.DEFAULT, options(Duration.ofMinutes(1), () -> false)));
        assertInstanceOf(FineTuneRefusedException.class, image);
        assertTrue(image.getMessage().contains("only tabular models can be fine-tuned"), image.getMessage());
    }

    @Test
    @DisplayName("a cancellation and a time limit end a long run in the host, and the host keeps serving")
    void cancelsAndTimesOut() {
        FineTuneSettings long_ = FineTuneSettings.fromJson(new JsonObject().put("epochs", 5000));
        Throwable cancelled = failure(engine.fineTune(nextKey(), base, manifest, rows, long_, options(Duration.ofMinutes(5), () -> true)));
        assertInstanceOf(TrainingFailedException.class, cancelled);
        assertEquals(TrainingFailedException.Reason.CANCELLED, ((TrainingFailedException) cancelled).reason());

        Throwable late = failure(engine.fineTune(nextKey(), base, manifest, rows, long_, options(Duration.ofSeconds(1), () -> false)));
        // the host stops the run between two steps; if it did not, the watchdog would kill the host
        assertTrue(late instanceof TrainingFailedException t && t.reason() == TrainingFailedException.Reason.TIME_LIMIT
                || late instanceof DeadlineExceededException, String.valueOf(late));

        ModelKey key = nextKey();
        await(engine.load(key, base, manifest, PoolConfig.defaults()));
        await(engine.unload(key));
    }
}
