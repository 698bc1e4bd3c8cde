package com.modelmarket.serving.training;

import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Sampler;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/**
 * Mini-batches in a fresh permutation each epoch, drawn from a seeded Java {@link Random}: the
 * batch order depends only on the seed. The last batch may be smaller.
 */
final class SeededSampler implements Sampler {

    private final int batchSize;
    private final Random random;

    SeededSampler(int batchSize, long seed) {
        this.batchSize = batchSize;
        this.random = new Random(seed * 31 + 7);
    }

    @Override
    public Iterator<List<Long>> sample(RandomAccessDataset dataset) {
        int n = Math.toIntExact(dataset.size());
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        DataSplit.shuffle(order, random);
        List<List<Long>> batches = new ArrayList<>();
        for (int start = 0; start < n; start += batchSize) {
            List<Long> batch = new ArrayList<>();
            for (int i = start; i < Math.min(n, start + batchSize); i++) {
                batch.add((long) order[i]);
            }
            batches.add(batch);
        }
        return batches.iterator();
    }

    /** Steps one epoch takes over {@code rows} rows. */
    int stepsPerEpoch(int rows) {
        return (rows + batchSize - 1) / batchSize;
    }

    @Override
    public int getBatchSize() {
        return batchSize;
    }
}
