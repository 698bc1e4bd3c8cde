package com.modelmarket.marketplace.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The split's live figures: the latency histogram's buckets bound every value within an eighth, and percentiles read from it. */
class CanaryTrafficTest {

    @Test
    @DisplayName("every latency falls in a bucket whose upper bound is at most an eighth above it (seeded, printed)")
    void bucketsBoundValues() {
        long seed = Long.getLong("canary.seed", System.nanoTime());
        System.out.println("CanaryTrafficTest seed: " + seed);
        Random random = new Random(seed);
        for (int i = 0; i < 100_000; i++) {
            long micros = 1 + (long) Math.floor(Math.pow(10, random.nextDouble() * 10));
            long bound = SplitTraffic.upperBound(SplitTraffic.bucket(micros));
            assertTrue(bound >= micros && bound <= micros + micros / 8 + 1, micros + " -> " + bound);
            assertTrue(SplitTraffic.bucket(micros) <= SplitTraffic.bucket(micros + 1), "monotonic at " + micros);
        }
    }

    @Test
    @DisplayName("p50 and p99 of 1..1000 ms, and errors and labelled accuracy, as counted")
    void percentiles() {
        SplitTraffic traffic = new SplitTraffic();
        UUID v = UUID.randomUUID();
        for (int ms = 1; ms <= 1000; ms++) {
            traffic.record(v, ms * 1_000_000L, ms % 100 == 0);
        }
        traffic.feedback(v, 4, 3);
        SplitTraffic.Snapshot s = traffic.snapshot(v);
        assertEquals(1000, s.requests());
        assertEquals(10, s.errors());
        assertTrue(s.p50Micros() >= 500_000 && s.p50Micros() <= 500_000 * 9 / 8, "p50 " + s.p50Micros());
        assertTrue(s.p99Micros() >= 990_000 && s.p99Micros() <= 990_000 * 9 / 8, "p99 " + s.p99Micros());
        assertEquals(0.75, s.accuracy());
        traffic.reset(v);
        assertEquals(0, traffic.snapshot(v).requests());
    }
}
