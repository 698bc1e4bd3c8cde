package com.modelmarket.marketplace.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.modelmarket.serving.training.HeldOutMetrics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The evaluation's figures against the training library's own ({@link HeldOutMetrics}, which
 * measures trained models' held-out rows) on seeded random predictions, and the confusion matrix's
 * and per-class figures' invariants.
 */
class EvaluationMetricsTest {

    @Test
    @DisplayName("accuracy, macro-F1 and the confusion matrix agree with HeldOutMetrics on random predictions (seeded)")
    void agreesWithHeldOutMetrics() {
        long seed = new Random().nextLong();
        System.out.println("EvaluationMetricsTest seed " + seed);
        Random random = new Random(seed);
        for (int round = 0; round < 500; round++) {
            int k = 2 + random.nextInt(8);
            int n = k + random.nextInt(300); // at least one row per class (below)
            List<String> labels = new ArrayList<>();
            for (int c = 0; c < k; c++) {
                labels.add("c" + c);
            }
            int[] actual = new int[n];
            double[][] scores = new double[n][k];
            float[][] floats = new float[n][k];
            for (int i = 0; i < n; i++) {
                actual[i] = i < k ? i : random.nextInt(k); // every class occurs: both macro-F1 definitions agree
                for (int c = 0; c < k; c++) {
                    floats[i][c] = random.nextInt(4) == 0 ? 0.5f : random.nextFloat(); // ties: the first largest wins
                    scores[i][c] = floats[i][c];
                }
            }
            JsonObject ours = EvaluationMetrics.classification(labels, actual, scores);
            HeldOutMetrics.Classification theirs = HeldOutMetrics.classification(labels, actual, floats);
            String where = "seed " + seed + ", round " + round;
            assertEquals(theirs.accuracy(), ours.getDouble("accuracy"), 1e-12, where);
            assertEquals(theirs.macroF1(), ours.getDouble("macroF1"), 1e-12, where);
            long total = 0;
            for (int a = 0; a < k; a++) {
                JsonArray row = ours.getJsonArray("confusionMatrix").getJsonArray(a);
                long support = 0;
                for (int p = 0; p < k; p++) {
                    assertEquals(theirs.confusion()[a][p], row.getLong(p), where);
                    support += row.getLong(p);
                }
                assertEquals(support, ours.getJsonArray("perClass").getJsonObject(a).getLong("support"), where);
                total += support;
            }
            assertEquals(n, total, where);
            if (k > 2) {
                assertEquals(Math.min(3, k - 1), ours.getInteger("topK"));
                assertEquals(true, ours.getDouble("topKAccuracy") >= ours.getDouble("accuracy"), where);
            }
        }
    }

    @Test
    @DisplayName("regression figures: MAE, RMSE and R² of a known case")
    void regression() {
        JsonObject m = EvaluationMetrics.regression(new double[] {1, 2, 3, 4}, new double[] {1, 2, 3, 6});
        assertEquals(0.5, m.getDouble("mae"), 1e-12);
        assertEquals(1.0, m.getDouble("rmse"), 1e-12);
        assertEquals(1 - 4.0 / 5.0, m.getDouble("r2"), 1e-12);
    }

    @Test
    @DisplayName("nearest-rank percentiles")
    void percentiles() {
        long[] sorted = new long[100];
        for (int i = 0; i < 100; i++) {
            sorted[i] = i + 1;
        }
        assertEquals(50, ServingStats.percentile(sorted, 50));
        assertEquals(99, ServingStats.percentile(sorted, 99));
        assertEquals(0, ServingStats.percentile(new long[0], 99));
    }
}
