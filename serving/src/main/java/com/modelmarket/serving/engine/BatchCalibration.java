package com.modelmarket.serving.engine;

import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TensorSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Finds the batch size past which a model stops getting faster per item. On a CPU a heavy model
 * (ResNet-18) computes about as many items per second in batches of 1 as of 8, and fewer in
 * batches of 16, while a small MLP gets faster up to hundreds: one fixed {@code maxBatchSize}
 * cannot suit both. Sizes 1, 2, 4, ... up to {@code maxBatchSize} are timed (after a warm-up, a few
 * timed runs, the fastest kept: interference from other threads only ever slows a run down) within
 * a time budget; doubling stops early when the next size would not fit in what is left of the
 * budget or when two sizes in a row fall clearly below the best items/s so far (a size slower than
 * the best is timed twice: on a busy machine one look may be unlucky).
 * The cap is the smallest size within {@link #TOLERANCE} of the best items/s: bigger batches that
 * are not faster only make requests wait for each other.
 */
public final class BatchCalibration {

    /** Sizes whose items/s is within this fraction of the best count as "as fast". */
    static final double TOLERANCE = 0.03;
    /** Doubling stops once two sizes in a row fall this fraction below the best items/s so far. */
    static final double CLEAR_DROP = 0.20;
    static final int MIN_REPS = 3;
    /** A fresh predictor and cold JIT make the first calls slow: up to this many warm it up. */
    static final int FIRST_WARMUP_CALLS = 5;
    static final int MAX_REPS = 50;
    /** Fast sizes repeat until about this much time is measured, to see past timer noise. */
    static final long TARGET_MEASURE_NANOS = 10_000_000;

    /** Runs one forward pass of {@code size} synthetic items and returns how long it took. */
    @FunctionalInterface
    public interface Probe {
        long runNanos(int size) throws Exception;
    }

    /**
     * What calibration found.
     *
     * @param cap the batch size cap to use
     * @param itemsPerSecond the measured sizes and their median items/s
     * @param spentNanos time spent, warm-ups included
     * @param stoppedBecause why doubling ended before {@code maxBatchSize}, or null
     */
    public record Result(int cap, SortedMap<Integer, Double> itemsPerSecond, long spentNanos, String stoppedBecause) {

        public Result {
            itemsPerSecond = Collections.unmodifiableSortedMap(new TreeMap<>(itemsPerSecond));
        }

        /** The table as {@code size→items/s} pairs, for the log. */
        public String table() {
            return itemsPerSecond.entrySet().stream()
                    .map(e -> e.getKey() + "→" + Math.round(e.getValue()))
                    .collect(Collectors.joining(", "));
        }
    }

    private BatchCalibration() {}

    /** 1, 2, 4, ... below {@code maxBatchSize}, then {@code maxBatchSize} itself. */
    static List<Integer> sizes(int maxBatchSize) {
        List<Integer> sizes = new ArrayList<>();
        for (int s = 1; s < maxBatchSize; s *= 2) {
            sizes.add(s);
        }
        sizes.add(maxBatchSize);
        return sizes;
    }

    /**
     * The smallest size whose items/s is within {@code tolerance} of the best one.
     *
     * @param itemsPerSecond measured sizes; must not be empty
     */
    static int chooseCap(SortedMap<Integer, Double> itemsPerSecond, double tolerance) {
        double best = Collections.max(itemsPerSecond.values());
        for (Map.Entry<Integer, Double> e : itemsPerSecond.entrySet()) {
            if (e.getValue() >= best * (1 - tolerance)) {
                return e.getKey();
            }
        }
        throw new IllegalArgumentException("no sizes measured");
    }

    /**
     * Times the sizes up to {@code maxBatchSize} within {@code budget} and picks the cap. Size 1 is
     * always measured, whatever the budget: a model whose single item exceeds it gets a cap of 1.
     */
    public static Result run(Probe probe, int maxBatchSize, Duration budget, LongSupplier clock) throws Exception {
        long start = clock.getAsLong();
        long budgetNanos = budget.toNanos();
        SortedMap<Integer, Double> rates = new TreeMap<>();
        String stopped = null;
        double best = 0;
        long lastNanos = 0;
        int lastSize = 0;
        int slowInARow = 0;
        for (int size : sizes(maxBatchSize)) {
            if (lastSize > 0) {
                long left = budgetNanos - (clock.getAsLong() - start);
                // a size costs about proportionally more than the last one: warm-up plus the reps
                long expected = lastNanos * size / lastSize * (1 + MIN_REPS);
                if (expected > left) {
                    stopped = "batch " + size + " would take about " + expected / 1_000_000
                            + " ms, " + Math.max(0, left / 1_000_000) + " ms of the budget left";
                    break;
                }
            }
            warmUp(probe, size, budgetNanos / 10, clock);
            long fastest = fastestRun(probe, size, start, budgetNanos, clock);
            if (size * 1e9 / fastest < best * (1 - TOLERANCE)
                    && fastest * MIN_REPS < budgetNanos - (clock.getAsLong() - start)) {
                // slower than the best: a second look, since a busy machine makes a size look slow
                fastest = Math.min(fastest, fastestRun(probe, size, start, budgetNanos, clock));
            }
            double rate = size * 1e9 / fastest;
            rates.put(size, rate);
            lastNanos = fastest;
            lastSize = size;
            slowInARow = rate < best * (1 - CLEAR_DROP) ? slowInARow + 1 : 0;
            if (slowInARow == 2) {
                stopped = "batches of " + size / 2 + " and " + size + " are clearly slower per item than the best";
                break;
            }
            best = Math.max(best, rate);
        }
        return new Result(chooseCap(rates, TOLERANCE), rates, clock.getAsLong() - start, stopped);
    }

    /**
     * The fastest of at least {@link #MIN_REPS} runs, repeated up to {@link #MAX_REPS} until {@link
     * #TARGET_MEASURE_NANOS} are measured, or fewer once the budget is spent.
     */
    private static long fastestRun(Probe probe, int size, long start, long budgetNanos, LongSupplier clock)
            throws Exception {
        long fastest = Long.MAX_VALUE;
        long measured = 0;
        for (int i = 1; i <= MAX_REPS; i++) {
            long t = probe.runNanos(size);
            fastest = Math.min(fastest, t);
            measured += t;
            if (i >= MIN_REPS && (measured >= TARGET_MEASURE_NANOS || clock.getAsLong() - start > budgetNanos)) {
                break;
            }
        }
        return Math.max(1, fastest);
    }

    /**
     * One run of a new size (its shape is new to the model); for the first size, runs until {@link
     * #FIRST_WARMUP_CALLS} or {@code firstBudgetNanos} are spent.
     */
    private static void warmUp(Probe probe, int size, long firstBudgetNanos, LongSupplier clock) throws Exception {
        long start = clock.getAsLong();
        int calls = 0;
        do {
            probe.runNanos(size);
            calls++;
        } while (size == 1 && calls < FIRST_WARMUP_CALLS && clock.getAsLong() - start < firstBudgetNanos);
    }

    /**
     * Zero-filled inputs of {@code size} items for every input of the manifest, in its order; empty
     * when a dimension other than the first is variable (no synthetic shape stands for real ones).
     */
    public static Optional<List<Tensor>> syntheticInputs(ModelManifest manifest, int size) {
        List<Tensor> inputs = new ArrayList<>(manifest.inputs().size());
        for (TensorSpec spec : manifest.inputs()) {
            long[] shape = spec.shape();
            shape[0] = size;
            long elements = 1;
            for (int i = 1; i < shape.length; i++) {
                if (shape[i] == TensorSpec.ANY) {
                    return Optional.empty();
                }
                elements *= shape[i];
            }
            inputs.add(Tensor.of(spec.name(), spec.datatype(), shape,
                    new byte[Math.toIntExact(size * elements * spec.datatype().byteSize())]));
        }
        return Optional.of(inputs);
    }
}
