package com.modelmarket.serving.batch;

import io.vertx.core.Vertx;
import java.time.Duration;

/**
 * Whether a {@link Batcher}'s batch that is not full waits for more requests, and the one timer
 * that ends the wait: only requests that queued behind busy workers linger, and only until the
 * oldest has waited {@code maxBatchDelay}. Guarded by the batcher's lock; the timer's handler
 * takes that lock itself and calls {@link #fired} first.
 */
final class Linger {

    private static final long NO_TIMER = -1;

    private final Vertx vertx;
    private final long maxDelayNanos;
    private final Runnable onTimer;
    private long timer = NO_TIMER;

    /** @param onTimer called when the wait ends, to form the batch */
    Linger(Vertx vertx, Duration maxBatchDelay, Runnable onTimer) {
        this.vertx = vertx;
        this.maxDelayNanos = maxBatchDelay.toNanos();
        this.onTimer = onTimer;
    }

    /** Whether a batch not full, led by {@code oldest}, should wait for more. */
    boolean shouldWait(PendingRequest oldest, int batchCap, long now) {
        return maxDelayNanos > 0
                && batchCap > 1
                && oldest.behindBusy
                && now - oldest.arrivalNanos < maxDelayNanos;
    }

    /** Arms the timer for the end of {@code oldest}'s wait, unless it is armed already. */
    void arm(PendingRequest oldest, long now) {
        if (timer == NO_TIMER) {
            long delay = DeadlineWatch.millisUntil(oldest.arrivalNanos + maxDelayNanos, now);
            timer = vertx.setTimer(delay, id -> onTimer.run());
        }
    }

    /** The timer fired: the next wait arms a new one. */
    void fired() {
        timer = NO_TIMER;
    }

    void cancel() {
        if (timer != NO_TIMER) {
            vertx.cancelTimer(timer);
            timer = NO_TIMER;
        }
    }
}
