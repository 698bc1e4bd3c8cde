package com.modelmarket.serving.host;

import com.modelmarket.serving.OverloadedException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Restarts of an owner whose model hosts keep dying (killed at deadlines, crashing) slow down: the
 * second death in a row waits 1 s before the next host may start, doubling up to 30 s. A host that
 * lived {@link #HEALTHY_NANOS} before it died starts the count afresh. Thread-safe.
 */
final class RestartBackoff {

    /** A host that lived this long before it died starts the count of deaths in a row afresh. */
    static final long HEALTHY_NANOS = 30_000_000_000L;
    static final long MAX_BACKOFF_MILLIS = 30_000;

    /** Hosts of one owner that died young in a row, and when the next may start. */
    private record Deaths(int inARow, long notBeforeNanos) {}

    private final Map<String, Deaths> byOwner = new ConcurrentHashMap<>();

    /** A host of {@code owner} died (not stopped on purpose) after living {@code ageNanos}. */
    void died(String owner, long ageNanos) {
        byOwner.compute(owner, (o, b) -> {
            int deaths = b == null || ageNanos > HEALTHY_NANOS ? 1 : b.inARow() + 1;
            long delayMillis = deaths <= 1 ? 0 : Math.min(MAX_BACKOFF_MILLIS, 500L << Math.min(16, deaths - 1));
            return new Deaths(deaths, System.nanoTime() + delayMillis * 1_000_000);
        });
    }

    /** Why a new host of {@code owner} may not start yet, or null if it may. */
    OverloadedException refusal(String owner) {
        Deaths d = byOwner.get(owner);
        long wait = d == null ? 0 : d.notBeforeNanos() - System.nanoTime();
        if (wait <= 0) {
            return null;
        }
        return new OverloadedException("this publisher's model host died " + d.inARow()
                + " times in a row; it restarts in " + (wait / 1_000_000) + " ms",
                Duration.ofNanos(Math.max(wait, 1_000_000_000L)));
    }
}
