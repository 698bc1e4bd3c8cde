package com.modelmarket.serving.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Row indices of the three parts of a dataset: training, validation (early stopping and per-epoch
 * figures, taken from the training part) and held-out (the platform's measurement, never trained
 * on). Classification splits are stratified so every class is in the held-out and training parts.
 * The same seed gives the same split.
 */
public record DataSplit(int[] train, int[] validation, int[] heldOut) {

    static DataSplit of(CsvDataset data, double heldOutFraction, double validationFraction, long seed) {
        int[] classes = null;
        if (data.task() == TrainingTask.CLASSIFICATION) {
            classes = new int[data.rowCount()];
            for (int r = 0; r < classes.length; r++) {
                classes[r] = data.classIndex(r);
            }
        }
        return of(data.rowCount(), classes, data.classes().size(), heldOutFraction, validationFraction, seed);
    }

    /**
     * The same split for rows known only by count and, for classification, their class indices
     * ({@code classes} null for regression).
     */
    static DataSplit of(int rowCount, int[] classes, int classCount, double heldOutFraction,
            double validationFraction, long seed) {
        Random random = new Random(seed ^ 0x5DEECE66DL);
        List<int[]> groups = new ArrayList<>();
        if (classes != null) {
            List<List<Integer>> byClass = new ArrayList<>();
            for (int c = 0; c < classCount; c++) {
                byClass.add(new ArrayList<>());
            }
            for (int r = 0; r < rowCount; r++) {
                byClass.get(classes[r]).add(r);
            }
            for (List<Integer> g : byClass) {
                groups.add(g.stream().mapToInt(Integer::intValue).toArray());
            }
        } else {
            int[] all = new int[rowCount];
            Arrays.setAll(all, i -> i);
            groups.add(all);
        }
        List<Integer> train = new ArrayList<>();
        List<Integer> validation = new ArrayList<>();
        List<Integer> heldOut = new ArrayList<>();
        for (int[] g : groups) {
            int[] rows = g.clone();
            shuffle(rows, random);
            int n = rows.length;
            int h = share(n, heldOutFraction);
            int v = validationFraction > 0 ? share(n - h, validationFraction) : 0;
            for (int i = 0; i < n; i++) {
                (i < h ? heldOut : i < h + v ? validation : train).add(rows[i]);
            }
        }
        return new DataSplit(sorted(train), sorted(validation), sorted(heldOut));
    }

    /** At least one row when the fraction is positive, and at least one left over. */
    private static int share(int n, double fraction) {
        if (n < 2) {
            return 0;
        }
        return (int) Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
    }

    static void shuffle(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    private static int[] sorted(List<Integer> rows) {
        return rows.stream().mapToInt(Integer::intValue).sorted().toArray();
    }
}
