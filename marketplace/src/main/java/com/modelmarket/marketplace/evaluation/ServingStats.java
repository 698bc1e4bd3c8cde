package com.modelmarket.marketplace.evaluation;

import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.TreeMap;

/**
 * How the engine served one run of an evaluation, from each request's facts: rows per second over
 * the run, the requests' latency (submitted → answered, as a caller of {@code /v2} would see it
 * without the HTTP part) at p50 and p99 (nearest rank), and the sizes of the batches the batcher
 * put them in. Filled from the requests' completions, read once the run has ended.
 */
final class ServingStats {

    private final long[] latencyNanos;
    private final int[] batchSizes;
    private long computeNanos;
    private int done;

    ServingStats(int requests) {
        this.latencyNanos = new long[requests];
        this.batchSizes = new int[requests];
    }

    synchronized void served(long latency, int batchSize, long compute) {
        latencyNanos[done] = latency;
        batchSizes[done] = batchSize;
        computeNanos += compute;
        done++;
    }

    synchronized int requests() {
        return done;
    }

    synchronized JsonObject toJson(int rows, long elapsedNanos) {
        long[] latencies = Arrays.copyOf(latencyNanos, done);
        Arrays.sort(latencies);
        TreeMap<Integer, Integer> histogram = new TreeMap<>();
        long sum = 0;
        int max = 0;
        for (int i = 0; i < done; i++) {
            histogram.merge(batchSizes[i], 1, Integer::sum);
            sum += batchSizes[i];
            max = Math.max(max, batchSizes[i]);
        }
        JsonObject sizes = new JsonObject();
        histogram.forEach((size, count) -> sizes.put(Integer.toString(size), count));
        return new JsonObject()
                .put("requests", done)
                .put("rows", rows)
                .put("elapsedMillis", elapsedNanos / 1_000_000)
                .put("itemsPerSecond", elapsedNanos == 0 ? 0.0 : rows * 1e9 / elapsedNanos)
                .put("computeMillis", computeNanos / 1_000_000)
                .put("latencyMillis", new JsonObject().put("p50", percentile(latencies, 50) / 1e6)
                        .put("p99", percentile(latencies, 99) / 1e6))
                .put("batchSizes", new JsonObject().put("histogram", sizes).put("max", max)
                        .put("mean", done == 0 ? 0.0 : (double) sum / done));
    }

    /** The nearest-rank percentile of sorted values (0 when there are none). */
    static long percentile(long[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }
}
