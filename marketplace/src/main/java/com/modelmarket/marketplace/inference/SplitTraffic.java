package com.modelmarket.marketplace.inference;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live figures per model version while it is a side of an alias split, on this node: calls,
 * errors, latency (p50 and p99 from a log-scale histogram, within an eighth of the value) and, for
 * calls whose caller sent the true label, how many the version got right. Only calls routed
 * through a split are counted, so the hot path without one pays nothing here. Kept in memory,
 * started afresh with each split (the publisher console reads them beside the split).
 */
public final class SplitTraffic {

    /** 8 buckets per power of two of microseconds, up to 2^40 µs (12 days). */
    private static final int SUB_BITS = 3;
    private static final int BUCKETS = 39 << SUB_BITS;
    private static final int MAX_VERSIONS = 10_000;

    private final Map<UUID, Figures> byVersion = new ConcurrentHashMap<>();

    /** What the console shows for one version. */
    public record Snapshot(long requests, long errors, long p50Micros, long p99Micros, long labelled, long correct) {
        /** Correct over labelled calls; NaN when none was labelled. */
        public double accuracy() {
            return labelled == 0 ? Double.NaN : (double) correct / labelled;
        }
    }

    private static final class Figures {
        final LongAdder requests = new LongAdder();
        final LongAdder errors = new LongAdder();
        final LongAdder labelled = new LongAdder();
        final LongAdder correct = new LongAdder();
        final AtomicLongArray latency = new AtomicLongArray(BUCKETS);
    }

    void record(UUID versionId, long nanos, boolean error) {
        Figures f = figures(versionId);
        f.requests.increment();
        if (error) {
            f.errors.increment();
        }
        f.latency.incrementAndGet(bucket(Math.max(1, nanos / 1000)));
    }

    void feedback(UUID versionId, int labelled, int correct) {
        Figures f = figures(versionId);
        f.labelled.add(labelled);
        f.correct.add(correct);
    }

    /** The version's figures since its split started on this node (zeros if none). */
    public Snapshot snapshot(UUID versionId) {
        Figures f = byVersion.get(versionId);
        if (f == null) {
            return new Snapshot(0, 0, 0, 0, 0, 0);
        }
        long[] counts = new long[BUCKETS];
        long total = 0;
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] = f.latency.get(i);
            total += counts[i];
        }
        return new Snapshot(f.requests.sum(), f.errors.sum(), percentile(counts, total, 0.50), percentile(counts, total, 0.99),
                f.labelled.sum(), f.correct.sum());
    }

    /** Forgets a version's figures: a new split starts from zero. */
    public void reset(UUID versionId) {
        byVersion.remove(versionId);
    }

    private Figures figures(UUID versionId) {
        Figures f = byVersion.get(versionId);
        if (f != null) {
            return f;
        }
        if (byVersion.size() >= MAX_VERSIONS) {
            byVersion.clear();
        }
        return byVersion.computeIfAbsent(versionId, k -> new Figures());
    }

    /**
     * Index of the bucket holding {@code micros} (at least 1): below 8 µs one bucket per value, then
     * 8 buckets per power of two (the leading bit's position, then the 3 bits after it).
     */
    static int bucket(long micros) {
        if (micros < 8) {
            return (int) Math.max(0, micros);
        }
        int exponent = 63 - Long.numberOfLeadingZeros(micros);
        int sub = (int) ((micros >>> (exponent - SUB_BITS)) & 7);
        return Math.min(BUCKETS - 1, ((exponent - 2) << SUB_BITS) | sub);
    }

    /** The largest value, in microseconds, that falls in a bucket. */
    static long upperBound(int bucket) {
        if (bucket < 8) {
            return bucket;
        }
        int exponent = (bucket >>> SUB_BITS) + 2;
        long sub = bucket & 7;
        return ((8 + sub + 1) << (exponent - SUB_BITS)) - 1;
    }

    private static long percentile(long[] counts, long total, double q) {
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return upperBound(i);
            }
        }
        return upperBound(counts.length - 1);
    }
}
