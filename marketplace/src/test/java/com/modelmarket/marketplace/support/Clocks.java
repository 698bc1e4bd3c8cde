package com.modelmarket.marketplace.support;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;

/** Waiting for the wall clock, for tests whose condition is time itself (a period's end, an expiry). */
public final class Clocks {

    private Clocks() {
    }

    /** Returns once the wall clock has passed {@code instant}. */
    public static void awaitPassed(Instant instant) {
        Duration left = Duration.between(Instant.now(), instant);
        await("the clock passes " + instant)
                .pollDelay(left.isNegative() ? Duration.ZERO : left)
                .pollInterval(Duration.ofMillis(20))
                .atMost(left.plusSeconds(5).isNegative() ? Duration.ofSeconds(5) : left.plusSeconds(5))
                .until(() -> Instant.now().isAfter(instant));
    }
}
