package com.modelmarket.serving.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.model.ArtifactKind;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.TorchRuntime;
import com.modelmarket.serving.training.TrainingFailedException.Reason;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecipeTrainerTest {

    private static ScheduledExecutorService timer;
    private final RecipeTrainer trainer = new RecipeTrainer();

    @BeforeAll
    static void oneThread() {
        TorchRuntime.start(1, 1, false); // one intra-op thread: the determinism the recipes promise
        timer = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stopTimer() {
        timer.shutdownNow();
    }

    private TrainingResult train(String recipe, CsvDataset data, JsonObject given, TrainingOptions options) {
        TrainingRecipe r = TrainingFixtures.recipe(recipe);
        TrainingResult result = trainer.train(r, r.resolve(given), data, options);
        System.out.printf("%s on %s: %s, %d epochs (best %d, early stop %s), %d ms%n", recipe, data,
                result.metrics().toJson().encode(), result.epochsRun(), result.bestEpoch(),
                result.stoppedEarly(), result.elapsed().toMillis());
        return result;
    }

    private TrainingResult trainDefaults(String recipe, CsvDataset data) {
        return train(recipe, data, null, TrainingOptions.DEFAULT);
    }

    private static double accuracy(TrainingResult r) {
        return ((HeldOutMetrics.Classification) r.metrics()).accuracy();
    }

    @Test
    @DisplayName("the MLP classifier with default hyperparameters reaches 0.93 held-out accuracy on breast cancer")
    void breastCancer() {
        CsvDataset data = TrainingFixtures.breastCancer();
        List<TrainingProgress> seen = new ArrayList<>();
        TrainingResult r = train("mlp_classifier", data, null, TrainingOptions.DEFAULT.withProgress(seen::add));
        try (TrainedModel m = r.model()) {
            assertEquals(data.featureNames(), m.featureNames());
            HeldOutMetrics.Classification c = (HeldOutMetrics.Classification) r.metrics();
            assertTrue(c.accuracy() >= 0.93, "accuracy " + c.accuracy());
            assertTrue(c.macroF1() >= 0.9, "macro-F1 " + c.macroF1());
            assertEquals(List.of("benign", "malignant"), c.labels());
            long total = 0;
            for (long[] row : c.confusion()) {
                for (long v : row) {
                    total += v;
                }
            }
            assertEquals(r.split().heldOut().length, total);
            assertEquals(71 + 42, r.split().heldOut().length); // 20 % of each class, rounded
            assertEquals(data.rowCount(), r.split().train().length + r.split().validation().length
                    + r.split().heldOut().length);
            // one progress report per epoch, the same as the curve, with validation figures
            assertEquals(r.epochsRun(), seen.size());
            assertEquals(seen, r.curve());
            TrainingProgress first = seen.get(0);
            assertEquals(1, first.epoch());
            assertEquals("accuracy", first.metricName());
            assertTrue(Double.isFinite(first.trainLoss()) && Double.isFinite(first.validationLoss()));
            assertTrue(seen.get(seen.size() - 1).step() > first.step());
        }
    }

    @Test
    @DisplayName("wine: the MLP and the logistic regression reach 0.90 held-out accuracy")
    void wine() {
        CsvDataset data = TrainingFixtures.wine();
        TrainingResult mlp = trainDefaults("mlp_classifier", data);
        mlp.model().close();
        assertTrue(accuracy(mlp) >= 0.90, "accuracy " + accuracy(mlp));
        TrainingResult lin = trainDefaults("logistic_regression", data);
        lin.model().close();
        assertTrue(accuracy(lin) >= 0.90, "accuracy " + accuracy(lin));
        assertEquals(3, ((HeldOutMetrics.Classification) lin.metrics()).confusion().length);
    }

    @Test
    @DisplayName("diabetes: the MLP regressor reaches R² 0.35, and its saved artifact reproduces the metrics")
    void diabetes(@TempDir Path dir) throws IOException {
        CsvDataset data = TrainingFixtures.diabetes();
        TrainingResult r = trainDefaults("mlp_regressor", data);
        HeldOutMetrics.Regression m = (HeldOutMetrics.Regression) r.metrics();
        assertTrue(m.r2() >= 0.35, "R² " + m.r2());
        assertTrue(m.mae() > 0 && m.rmse() >= m.mae());
        Path file = dir.resolve("diabetes.zip");
        String sha;
        float[][] before;
        try (TrainedModel model = r.model()) {
            sha = model.save(file);
            before = model.predict(data.rows(r.split().heldOut()));
        }
        assertEquals(sha256(file), sha);
        try (TrainedModel loaded = TrainedModel.load(file)) {
            float[][] after = loaded.predict(data.rows(r.split().heldOut()));
            assertEquals(before.length, after.length);
            for (int i = 0; i < before.length; i++) {
                assertArrayEquals(before[i], after[i], "row " + i);
            }
            assertEquals(m, HeldOutMetrics.measure(loaded, data, r.split().heldOut()));
            assertEquals(List.of(), loaded.labels());
            assertEquals(data.featureNames(), loaded.featureNames());
        }
    }

    @Test
    @DisplayName("a saved classifier loads and its held-out predictions give exactly the reported metrics")
    void artifactReproducesMetrics(@TempDir Path dir) throws IOException {
        CsvDataset data = TrainingFixtures.breastCancer();
        TrainingResult r = trainDefaults("mlp_classifier", data);
        Path file = dir.resolve("model.zip");
        try (TrainedModel m = r.model()) {
            m.save(file);
        }
        HeldOutMetrics.Classification reported = (HeldOutMetrics.Classification) r.metrics();
        try (TrainedModel loaded = TrainedModel.load(file)) {
            int[] rows = r.split().heldOut();
            float[][] probabilities = loaded.predict(data.rows(rows));
            int[] actual = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                actual[i] = data.classIndex(rows[i]);
                assertEquals(1.0, probabilities[i][0] + probabilities[i][1], 1e-5);
            }
            HeldOutMetrics.Classification replayed =
                    HeldOutMetrics.classification(loaded.labels(), actual, probabilities);
            assertEquals(reported.accuracy(), replayed.accuracy());
            assertEquals(reported.macroF1(), replayed.macroF1());
            assertArrayEquals(reported.confusion(), replayed.confusion());
            assertEquals(List.of("benign", "malignant"), loaded.labels());
            assertEquals(2, loaded.outputCount());
            assertEquals(r.hyperparameters(), loaded.hyperparameters());
            // the serving manifest derived from it passes the engine's manifest checks
            ModelManifest manifest = ModelManifest.fromJson(loaded.manifestJson("cancer"));
            assertEquals(ArtifactKind.TRAINED_MODEL, manifest.artifact());
            assertEquals("features", manifest.inputs().get(0).name());
            assertArrayEquals(new long[] {-1, 30}, manifest.inputs().get(0).shape());
            assertEquals("probabilities", manifest.outputs().get(0).name());
            assertArrayEquals(new long[] {-1, 2}, manifest.outputs().get(0).shape());
            assertEquals(List.of("benign", "malignant"), manifest.outputs().get(0).labels());
        }
    }

    @Test
    @DisplayName("the same seed twice gives identical metrics, curve and artifact bytes; another seed does not")
    void deterministic() throws IOException {
        CsvDataset data = TrainingFixtures.wine();
        TrainingResult a = trainDefaults("mlp_classifier", data);
        TrainingResult b = trainDefaults("mlp_classifier", data);
        TrainingResult c = train("mlp_classifier", data, new JsonObject().put("seed", 7), TrainingOptions.DEFAULT);
        try (TrainedModel ma = a.model(); TrainedModel mb = b.model(); TrainedModel mc = c.model()) {
            assertEquals(a.metrics().toJson(), b.metrics().toJson());
            assertEquals(a.curve().stream().map(p -> p.trainLoss()).toList(),
                    b.curve().stream().map(p -> p.trainLoss()).toList());
            assertArrayEquals(a.split().heldOut(), b.split().heldOut());
            String shaA = ma.writeTo(new ByteArrayOutputStream());
            assertEquals(shaA, mb.writeTo(new ByteArrayOutputStream()));
            assertTrue(!shaA.equals(mc.writeTo(new ByteArrayOutputStream())));
        }
    }

    @Test
    @DisplayName("an MLP with tanh and dropout trains, and on one thread the same seed repeats it")
    void dropout() {
        JsonObject json = TrainingFixtures.recipeJson("mlp_classifier");
        json.put("architecture", new JsonObject().put("kind", "mlp").put("activation", "tanh").put("dropout", 0.2));
        TrainingRecipe r = TrainingRecipe.fromJson(json);
        CsvDataset data = TrainingFixtures.wine();
        TrainingResult a = trainer.train(r, r.resolve(null), data, TrainingOptions.DEFAULT);
        TrainingResult b = trainer.train(r, r.resolve(null), data, TrainingOptions.DEFAULT);
        a.model().close();
        b.model().close();
        System.out.println("tanh + dropout 0.2 on wine: " + a.metrics().toJson().encode());
        assertTrue(accuracy(a) >= 0.90, "accuracy " + accuracy(a));
        assertEquals(a.metrics().toJson(), b.metrics().toJson());
    }

    @Test
    @DisplayName("a cancellation is seen within 2 s, between steps, and ends the run with CANCELLED")
    void cancel() {
        // the cancel comes from another thread while the second epoch runs (about 400 steps each)
        AtomicLong cancelledAt = new AtomicLong();
        List<TrainingProgress> seen = new ArrayList<>();
        TrainingOptions options = TrainingOptions.DEFAULT
                .withCancellation(() -> cancelledAt.get() != 0)
                .withProgress(p -> {
                    seen.add(p);
                    if (p.epoch() == 1) {
                        timer.schedule(() -> cancelledAt.set(System.nanoTime()), 20, TimeUnit.MILLISECONDS);
                    }
                });
        TrainingFailedException e = assertThrows(TrainingFailedException.class, () -> train("mlp_classifier",
                TrainingFixtures.breastCancer(), new JsonObject().put("epochs", 500).put("batchSize", 1)
                        .put("earlyStoppingPatience", 0), options));
        long late = System.nanoTime() - cancelledAt.get();
        System.out.println(e.getMessage() + ", " + late / 1_000_000 + " ms after the cancel");
        assertEquals(Reason.CANCELLED, e.reason());
        assertTrue(cancelledAt.get() != 0 && late < 2_000_000_000L, late / 1_000_000 + " ms");
        assertTrue(seen.size() >= 1 && seen.size() < 500, seen.size() + " epochs");
    }

    @Test
    @DisplayName("a run past its time limit ends with TIME_LIMIT")
    void timeLimit() {
        TrainingFailedException e = assertThrows(TrainingFailedException.class, () -> train("mlp_classifier",
                TrainingFixtures.breastCancer(), new JsonObject().put("epochs", 500).put("batchSize", 1)
                        .put("earlyStoppingPatience", 0),
                TrainingOptions.DEFAULT.withTimeLimit(Duration.ofMillis(200))));
        System.out.println(e.getMessage());
        assertEquals(Reason.TIME_LIMIT, e.reason());
        assertTrue(e.getMessage().contains("time limit"));
    }

    @Test
    @DisplayName("a huge learning rate makes the loss non-finite and the run fails with DIVERGED and its reason")
    void divergence() {
        TrainingRecipe sgd = TrainingRecipe.fromJson(new JsonObject("""
                {"task": "regression", "architecture": {"kind": "linear"}, "optimizer": "sgd",
                 "hyperparameters": {"learningRate": {"type": "double", "default": 0.01, "max": 10}}}"""));
        Hyperparameters hp = sgd.resolve(new JsonObject().put("learningRate", 10.0));
        TrainingFailedException e = assertThrows(TrainingFailedException.class,
                () -> trainer.train(sgd, hp, TrainingFixtures.diabetes(), TrainingOptions.DEFAULT));
        System.out.println(e.getMessage());
        assertEquals(Reason.DIVERGED, e.reason());
        assertTrue(e.getMessage().contains("loss became"), e.getMessage());
    }

    @Test
    @DisplayName("a recipe and a dataset of different tasks are refused before training")
    void taskMismatch() {
        TrainingRecipe r = TrainingFixtures.recipe("mlp_regressor");
        assertThrows(IllegalArgumentException.class,
                () -> trainer.train(r, r.resolve(null), TrainingFixtures.wine(), TrainingOptions.DEFAULT));
    }

    @Test
    @DisplayName("a damaged or foreign archive is rejected")
    void badArtifacts(@TempDir Path dir) throws IOException {
        Path junk = dir.resolve("junk.zip");
        Files.write(junk, new byte[] {1, 2, 3, 4});
        assertThrows(ArtifactRejectedException.class, () -> TrainedModel.load(junk).close());
        Path other = dir.resolve("other.zip");
        try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(other))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("../evil"));
            zip.write(1);
            zip.closeEntry();
        }
        assertThrows(ArtifactRejectedException.class, () -> TrainedModel.load(other).close());
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
