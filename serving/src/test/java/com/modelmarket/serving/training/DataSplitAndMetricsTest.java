package com.modelmarket.serving.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class DataSplitAndMetricsTest {

    @Test
    @DisplayName("seeded random datasets split into disjoint parts covering every row, each class held out and trained")
    void splits() throws IOException {
        long seed = System.nanoTime();
        System.out.println("splits seed " + seed);
        Random random = new Random(seed);
        for (int round = 0; round < 100; round++) {
            int classes = 2 + random.nextInt(4);
            StringBuilder csv = new StringBuilder("x,label\n");
            int rows = 0;
            for (int c = 0; c < classes; c++) {
                int n = 3 + random.nextInt(30);
                for (int i = 0; i < n; i++) {
                    csv.append(random.nextInt(100)).append(",c").append(c).append('\n');
                    rows++;
                }
            }
            CsvDataset data = CsvDataset.parse(new ByteArrayInputStream(csv.toString()
                    .getBytes(StandardCharsets.UTF_8)), "label", TrainingTask.CLASSIFICATION, CsvLimits.DEFAULT);
            double heldOut = 0.1 + random.nextDouble() * 0.3;
            double validation = random.nextBoolean() ? 0 : random.nextDouble() * 0.3;
            long splitSeed = random.nextLong();
            DataSplit s = DataSplit.of(data, heldOut, validation, splitSeed);
            Set<Integer> all = new HashSet<>();
            for (int[] part : List.of(s.train(), s.validation(), s.heldOut())) {
                for (int r : part) {
                    assertTrue(all.add(r), "seed " + seed + ": row " + r + " in two parts");
                }
            }
            assertEquals(rows, all.size(), "seed " + seed);
            for (int c = 0; c < classes; c++) {
                int cls = c;
                assertTrue(java.util.Arrays.stream(s.heldOut()).anyMatch(r -> data.classIndex(r) == cls), "seed " + seed);
                assertTrue(java.util.Arrays.stream(s.train()).anyMatch(r -> data.classIndex(r) == cls), "seed " + seed);
            }
            DataSplit again = DataSplit.of(data, heldOut, validation, splitSeed);
            assertArrayEquals(s.heldOut(), again.heldOut(), "seed " + seed);
            assertArrayEquals(s.train(), again.train(), "seed " + seed);
        }
    }

    @Test
    @DisplayName("seeded random predictions: accuracy is the confusion trace, macro-F1 in [0, 1], perfect is 1")
    void classificationMetrics() {
        long seed = System.nanoTime();
        System.out.println("classificationMetrics seed " + seed);
        Random random = new Random(seed);
        for (int round = 0; round < 200; round++) {
            int k = 2 + random.nextInt(5);
            int n = 1 + random.nextInt(60);
            int[] actual = new int[n];
            float[][] probs = new float[n][k];
            float[][] perfect = new float[n][k];
            for (int i = 0; i < n; i++) {
                actual[i] = random.nextInt(k);
                for (int j = 0; j < k; j++) {
                    probs[i][j] = random.nextFloat();
                }
                perfect[i][actual[i]] = 1;
            }
            List<String> labels = java.util.stream.IntStream.range(0, k).mapToObj(i -> "c" + i).toList();
            HeldOutMetrics.Classification m = HeldOutMetrics.classification(labels, actual, probs);
            long trace = 0;
            long total = 0;
            for (int i = 0; i < k; i++) {
                trace += m.confusion()[i][i];
                for (int j = 0; j < k; j++) {
                    total += m.confusion()[i][j];
                }
            }
            assertEquals(n, total, "seed " + seed);
            assertEquals((double) trace / n, m.accuracy(), 1e-12, "seed " + seed);
            assertTrue(m.macroF1() >= 0 && m.macroF1() <= 1, "seed " + seed);
            assertEquals(1.0, HeldOutMetrics.classification(labels, actual, perfect).accuracy(), "seed " + seed);
        }
    }

    @Test
    @DisplayName("regression metrics: exact predictions give R² 1 and zero errors, the mean gives R² 0")
    void regressionMetrics() {
        double[] y = {1, 2, 3, 4};
        HeldOutMetrics.Regression exact = HeldOutMetrics.regression(y, new float[][] {{1}, {2}, {3}, {4}});
        assertEquals(new HeldOutMetrics.Regression(0, 0, 1), exact);
        HeldOutMetrics.Regression mean = HeldOutMetrics.regression(y, new float[][] {{2.5f}, {2.5f}, {2.5f}, {2.5f}});
        assertEquals(0, mean.r2(), 1e-12);
        assertEquals(1.0, mean.mae(), 1e-12);
        assertEquals(Math.sqrt(1.25), mean.rmse(), 1e-12);
    }
}
