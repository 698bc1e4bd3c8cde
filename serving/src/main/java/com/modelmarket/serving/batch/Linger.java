package com.modelmarket.serving.batch;

import io.vertx.core.Vertx;
import java.time.Duration;

/**
 * Whether a {@link Batcher}'s batch that is not full waits for more requests, and the one timer
 * that ends the wait. Every case but one is bounded by {@code maxBatchDelay}:
 *
 * <ul>
 *   <li>Requests that queued behind busy workers wait to fill the batch until the oldest has waited
 *       {@code maxBatchDelay}.
 *   <li>For a model whose lone item is costly (a single-item forward pass of at least {@link
 *       #MIN_GATHER_NANOS}, from the load-time calibration: a model bound by reading its weights,
 *       where batch 1 takes nearly as long as a full batch), under concurrent load (more than one
 *       request computing or queued at once before its last batch was launched, within {@link
 *       #RECENT_NANOS}):
 *       <ul>
 *         <li>a batch gathers the callers coming back, up to that many requests, for at most {@code maxBatchDelay} from when its oldest arrived or its worker
 *             became free, whichever is later. Under closed-loop load the callers of a batch that
 *             just ended come back a moment later; without this, the first of them runs alone or
 *             with few, and the callers split for good into groups that each pay a whole forward
 *             pass;
 *         <li>while the version's running batches already occupy every compute thread its runtime
 *             has for it ({@code parallelism}), a partial batch is not launched at all: it would only
 *             queue behind them inside the runtime, while later requests could have joined it. It
 *             launches when a batch ends (it would have waited that long anyway), or when full.
 *       </ul>
 *       A lone caller (one request in flight at a time) never waits, and models whose single item
 *       is cheaper than a timer tick keep the first rule only.
 * </ul>
 *
 * Guarded by the batcher's lock; the timer's handler takes that lock itself and calls {@link #fired}
 * first.
 */
final class Linger {

    /** A single-item forward pass shorter than this is not worth gathering for (the timer's granularity). */
    static final long MIN_GATHER_NANOS = 1_000_000L;
    /** How recent the last batch must be for its size to say that callers are coming back. */
    static final long RECENT_NANOS = 1_000_000_000L;

    private static final long NO_TIMER = -1;
    /** {@link #waitEnd}: do not wait. */
    static final long GO = Long.MIN_VALUE;
    /** {@link #waitEnd}: wait for a running batch to end, with no timer. */
    static final long UNTIL_A_BATCH_ENDS = Long.MAX_VALUE;

    private final Vertx vertx;
    private final long maxDelayNanos;
    private final Runnable onTimer;
    private long timer = NO_TIMER;
    private long timerEnd;
    /** Whether this version's model has a costly lone item (see the class comment). */
    private boolean gathers;
    private int parallelism = Integer.MAX_VALUE;
    /** The most requests computing or queued at once since the last batch was launched. */
    private int peakSinceLaunch;
    /** The same, over the time before the last launch: how many callers the version has now. */
    private int lastInFlight;
    private long lastBatchNanos;

    /** @param onTimer called when the wait ends, to form the batch */
    Linger(Vertx vertx, Duration maxBatchDelay, Runnable onTimer) {
        this.vertx = vertx;
        this.maxDelayNanos = maxBatchDelay.toNanos();
        this.onTimer = onTimer;
    }

    /**
     * The calibrated rate of single-item batches, in items per second, and how many batches of the
     * version its runtime computes at once.
     */
    void calibrated(double singleItemsPerSecond, int parallelism) {
        long single = singleItemsPerSecond > 0 ? (long) (1e9 / singleItemsPerSecond) : 0;
        this.gathers = single >= MIN_GATHER_NANOS;
        this.parallelism = Math.max(1, parallelism);
    }

    /** A request was queued: {@code inFlight} requests are computing or queued now. */
    void observe(int inFlight) {
        peakSinceLaunch = Math.max(peakSinceLaunch, inFlight);
    }

    /** A batch was launched at {@code now}. */
    void launched(long now) {
        lastInFlight = peakSinceLaunch;
        peakSinceLaunch = 0;
        lastBatchNanos = now;
    }

    /**
     * When the wait of a batch not full ({@code items} in {@code requests}, led by {@code oldest})
     * ends: {@link #GO} for no wait, {@link #UNTIL_A_BATCH_ENDS}, or a {@link System#nanoTime()}.
     *
     * @param busy batches of the version running now
     * @param freeSince when the worker it would run on became free
     */
    long waitEnd(PendingRequest oldest, int batchCap, int requests, int busy, long freeSince, long now) {
        if (maxDelayNanos <= 0 || batchCap <= 1) {
            return GO;
        }
        long end = GO;
        if (oldest.behindBusy && now - oldest.arrivalNanos < maxDelayNanos) {
            end = oldest.arrivalNanos + maxDelayNanos;
        }
        if (gathers && lastInFlight > 1 && now - lastBatchNanos < RECENT_NANOS) {
            if (busy >= parallelism) {
                return UNTIL_A_BATCH_ENDS;
            }
            long gatherEnd = Math.max(oldest.arrivalNanos, freeSince) + maxDelayNanos;
            if (requests < lastInFlight && now < gatherEnd) {
                end = Math.max(end, gatherEnd);
            }
        }
        return end;
    }

    /** Arms the timer for {@code end}, unless one is armed for that time or earlier. */
    void arm(long end, long now) {
        if (end == UNTIL_A_BATCH_ENDS || (timer != NO_TIMER && timerEnd <= end)) {
            return;
        }
        cancel();
        timerEnd = end;
        timer = vertx.setTimer(DeadlineWatch.millisUntil(end, now), id -> onTimer.run());
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
