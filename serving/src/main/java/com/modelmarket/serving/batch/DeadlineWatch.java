package com.modelmarket.serving.batch;

import io.vertx.core.Vertx;
import java.util.function.LongConsumer;

/**
 * One Vert.x timer for all deadlines of a {@link Batcher} (queued requests, running requests,
 * batches that may be stuck), armed for the earliest one pending. Guarded by the batcher's lock;
 * the timer's handler takes that lock itself and asks {@link #fired} first.
 */
final class DeadlineWatch {

    private static final long NO_TIMER = -1;

    private final Vertx vertx;
    private final LongConsumer onTimer;
    private long timer = NO_TIMER;
    private long armedFor = Long.MAX_VALUE;

    /** @param onTimer called with the timer's id when it fires */
    DeadlineWatch(Vertx vertx, LongConsumer onTimer) {
        this.vertx = vertx;
        this.onTimer = onTimer;
    }

    /** Keeps the timer armed for the earliest deadline; {@code Long.MAX_VALUE} is none. */
    void watch(long deadlineNanos) {
        if (deadlineNanos == Long.MAX_VALUE || deadlineNanos >= armedFor) {
            return;
        }
        if (timer != NO_TIMER) {
            vertx.cancelTimer(timer);
        }
        armedFor = deadlineNanos;
        timer = vertx.setTimer(millisUntil(deadlineNanos, System.nanoTime()), onTimer::accept);
    }

    /**
     * Whether timer {@code id} is the one armed now (not one replaced by an earlier deadline); if so
     * the watch is disarmed, and the caller looks at every deadline and watches the next.
     */
    boolean fired(long id) {
        if (id != timer) {
            return false;
        }
        timer = NO_TIMER;
        armedFor = Long.MAX_VALUE;
        return true;
    }

    static long millisUntil(long deadlineNanos, long now) {
        return Math.max(1, (deadlineNanos - now + 999_999) / 1_000_000);
    }
}
