package com.modelmarket.marketplace.canary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.inference.SplitHash;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The split's stable hash as a property: over many seeded random tenants (or request ids) each
 * percent bucket gets its share, and a tenant's bucket never changes. The seed is printed; set
 * {@code -Dcanary.seed=} to replay one.
 */
class CanaryHashTest {

    private static final int SAMPLES = 40_000;

    private static long seed() {
        long seed = Long.getLong("canary.seed", System.nanoTime());
        System.out.println("CanaryHashTest seed: " + seed + " (replay with -Dcanary.seed=" + seed + ")");
        return seed;
    }

    @Test
    @DisplayName("tenant buckets: 40,000 random tenants split 80/20 within a percent, each decile within 1.5 percent, and stable")
    void tenantBuckets() {
        Random random = new Random(seed());
        UUID model = new UUID(random.nextLong(), random.nextLong());
        int[] deciles = new int[10];
        int canary = 0;
        for (int i = 0; i < SAMPLES; i++) {
            UUID tenant = new UUID(random.nextLong(), random.nextLong());
            int bucket = SplitHash.bucket(tenant, model);
            assertTrue(bucket >= 0 && bucket < 100, "bucket " + bucket);
            assertEquals(bucket, SplitHash.bucket(new UUID(tenant.getMostSignificantBits(), tenant.getLeastSignificantBits()), model));
            canary += bucket < 20 ? 1 : 0;
            deciles[bucket / 10]++;
        }
        // the sd of a 20% share of 40,000 is 0.2% and of a 10% decile 0.15%: bounds of 5 and 10 sd
        assertEquals(0.20, canary / (double) SAMPLES, 0.01);
        for (int d = 0; d < 10; d++) {
            assertEquals(0.10, deciles[d] / (double) SAMPLES, 0.015, "decile " + d);
        }
    }

    @Test
    @DisplayName("the same tenant gets different buckets for different models (one tenant is not the canary of every model)")
    void modelsDiffer() {
        Random random = new Random(seed());
        UUID tenant = new UUID(random.nextLong(), random.nextLong());
        int canary = 0;
        for (int i = 0; i < SAMPLES; i++) {
            canary += SplitHash.bucket(tenant, new UUID(random.nextLong(), random.nextLong())) < 20 ? 1 : 0;
        }
        assertEquals(0.20, canary / (double) SAMPLES, 0.01);
    }

    @Test
    @DisplayName("request-id buckets of sequential ids split 80/20 within a percent")
    void requestBuckets() {
        Random random = new Random(seed());
        String prefix = "req-" + Long.toHexString(random.nextLong()) + "-";
        int canary = 0;
        for (int i = 0; i < SAMPLES; i++) {
            canary += SplitHash.bucket(prefix + i) < 20 ? 1 : 0;
        }
        assertEquals(0.20, canary / (double) SAMPLES, 0.01);
        assertEquals(SplitHash.bucket(prefix + 7), SplitHash.bucket(prefix + 7));
    }
}
