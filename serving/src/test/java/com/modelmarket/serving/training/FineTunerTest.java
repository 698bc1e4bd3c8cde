package com.modelmarket.serving.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.model.ArtifactCheck;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.TorchRuntime;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fine-tuner as a library, in this (trusted) test JVM; through the sandbox see FineTuneServingTest. */
class FineTunerTest {

    private static final Path MODEL = TrainingFixtures.DIR.resolve("breast_cancer_mlp.pt");
    private final FineTuner tuner = new FineTuner();

    @TempDir
    Path dir;

    @BeforeAll
    static void oneThread() {
        TorchRuntime.start(1, 1, false);
    }

    static ModelManifest manifest(String name) throws IOException {
        return ModelManifest.fromJson(new JsonObject(Files.readString(TrainingFixtures.DIR.resolve(name + ".json"))));
    }

    @Test
    @DisplayName("fine-tuning the under-trained MLP on breast-cancer rows improves held-out accuracy and writes TorchScript the checks accept")
    void improves() throws IOException {
        ModelManifest m = manifest("breast_cancer_mlp");
        FineTuneRows rows = FineTuneRows.of(TrainingFixtures.breastCancer(), m);
        Path out = dir.resolve("tuned.pt");
        FineTuneReport report = tuner.fineTune(MODEL, m, rows, FineTuneSettings.DEFAULT, () -> false,
                Duration.ofMinutes(5), out);
        System.out.println("fine-tuned: " + report.toJson().encode());
        double before = ((HeldOutMetrics.Classification) report.base()).accuracy();
        double after = ((HeldOutMetrics.Classification) report.tuned()).accuracy();
        assertEquals("probabilities", report.outputs());
        assertTrue(after > before, "held-out accuracy " + before + " -> " + after);
        assertTrue(after > 0.9, "held-out accuracy " + after);
        ArtifactCheck.check(out, m, true);
        FineTuneReport json = FineTuneReport.fromJson(report.toJson());
        assertEquals(report.toJson(), json.toJson());
    }

    @Test
    @DisplayName("a dataset of the wrong width and a model with a non-tabular input are refused, saying why")
    void refuses() throws IOException {
        ModelManifest m = manifest("breast_cancer_mlp");
        FineTuneRefusedException wide = assertThrows(FineTuneRefusedException.class,
                () -> FineTuneRows.of(TrainingFixtures.wine(), m));
        assertTrue(wide.getMessage().contains("feature columns"), wide.getMessage());
        ModelManifest cnn = manifest("digits_cnn");
        FineTuneRefusedException image = assertThrows(FineTuneRefusedException.class,
                () -> tuner.fineTune(TrainingFixtures.DIR.resolve("digits_cnn.pt"), cnn,
                        new FineTuneRows(new float[4][64], new float[4]), FineTuneSettings.DEFAULT, () -> false,
                        Duration.ofMinutes(1), dir.resolve("x.pt")));
        assertTrue(image.getMessage().contains("only tabular models"), image.getMessage());
        assertFalse(Files.exists(dir.resolve("x.pt")));
    }

    @Test
    @DisplayName("a cancellation or a passed time limit ends the run without writing a model")
    void cancelled() throws IOException {
        ModelManifest m = manifest("breast_cancer_mlp");
        FineTuneRows rows = FineTuneRows.of(TrainingFixtures.breastCancer(), m);
        AtomicInteger polls = new AtomicInteger();
        TrainingFailedException c = assertThrows(TrainingFailedException.class, () -> tuner.fineTune(MODEL, m, rows,
                FineTuneSettings.DEFAULT, () -> polls.incrementAndGet() > 3, Duration.ofMinutes(5),
                dir.resolve("c.pt")));
        assertEquals(TrainingFailedException.Reason.CANCELLED, c.reason());
        TrainingFailedException t = assertThrows(TrainingFailedException.class, () -> tuner.fineTune(MODEL, m, rows,
                FineTuneSettings.DEFAULT, () -> false, Duration.ZERO, dir.resolve("t.pt")));
        assertEquals(TrainingFailedException.Reason.TIME_LIMIT, t.reason());
        assertFalse(Files.exists(dir.resolve("c.pt")) || Files.exists(dir.resolve("t.pt")));
    }
}
