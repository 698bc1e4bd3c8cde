package com.modelmarket.serving.batch;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The workers of a {@link Batcher}: the idle ones (the most recently freed first, so that the
 * oldest idle ones are the first to retire), how many are busy and how many are starting, and how
 * long their recent batches took. Starts workers through the batcher's {@link Batcher.Scaler}, as
 * an {@link Effects} action. Guarded by the batcher's lock.
 */
final class WorkerSlots {

    private record IdleWorker(BatchWorker worker, long sinceNanos) {}

    private final Batcher.Scaler scaler;
    private final ArrayDeque<IdleWorker> idle = new ArrayDeque<>();
    private int busy;
    private int starting;
    private double avgBatchNanos = 1_000_000;

    WorkerSlots(Batcher.Scaler scaler) {
        this.scaler = scaler;
    }

    /** {@code count} workers the owner starts on its own. */
    void expect(int count) {
        starting += count;
    }

    /** Asks the scaler for one more worker, once the lock is released. */
    void startOne(Effects fx) {
        starting++;
        fx.act(scaler::startWorker);
    }

    /** A worker that was starting is ready, idle since {@code now}. */
    void started(BatchWorker worker, long now) {
        starting--;
        idle.push(new IdleWorker(worker, now));
    }

    /** A worker that was starting could not start. */
    void startFailed() {
        starting--;
    }

    boolean hasIdle() {
        return !idle.isEmpty();
    }

    /** When the idle worker {@link #take} would give became free; call only with one idle. */
    long idleSince() {
        return idle.peek().sinceNanos();
    }

    /** Takes the most recently freed idle worker for a batch: it is busy now. */
    BatchWorker take() {
        BatchWorker worker = idle.pop().worker();
        busy++;
        return worker;
    }

    /** A busy worker's batch ended and the worker serves again, idle since {@code now}. */
    void returned(BatchWorker worker, long now) {
        busy--;
        idle.push(new IdleWorker(worker, now));
    }

    /** A busy worker left service (broken, or stuck in its batch). */
    void left() {
        busy--;
    }

    /** A batch took {@code nanos}: feeds the retry-after hint. */
    void batchTook(long nanos) {
        avgBatchNanos = 0.8 * avgBatchNanos + 0.2 * nanos;
    }

    /** Workers busy, idle or starting. */
    int all() {
        return busy + idle.size() + starting;
    }

    /** Workers up: busy or idle. */
    int up() {
        return busy + idle.size();
    }

    int busy() {
        return busy;
    }

    int starting() {
        return starting;
    }

    /** Whether no worker is busy or starting. */
    boolean noneBusyOrStarting() {
        return busy == 0 && starting == 0;
    }

    /**
     * Whether waiting work should get one more worker: none is idle, there is a slot for it, and
     * the workers already starting will not take all of the {@code queuedItems}.
     */
    boolean wantAnother(int queuedItems, int batchCap, int freeSlots) {
        return idle.isEmpty()
                && all() < freeSlots
                && (starting == 0 || queuedItems > starting * batchCap);
    }

    /** Takes back idle workers above {@code keep} idle for {@code idleNanos}, oldest first. */
    List<BatchWorker> retireIdle(long idleNanos, int keep, long now) {
        List<BatchWorker> retired = new ArrayList<>();
        while (!idle.isEmpty() && all() > keep && now - idle.peekLast().sinceNanos() >= idleNanos) {
            retired.add(idle.pollLast().worker());
        }
        return retired;
    }

    /** Takes back every idle worker. */
    List<BatchWorker> takeIdle() {
        List<BatchWorker> all = new ArrayList<>();
        idle.forEach(w -> all.add(w.worker()));
        idle.clear();
        return all;
    }

    /** When to retry, from the recent batch times, with {@code queuedItems} ahead. */
    Duration retryAfter(int queuedItems, int batchCap) {
        int workers = Math.max(1, up());
        double batchesAhead = (double) queuedItems / batchCap + 1;
        long nanos = (long) (batchesAhead * avgBatchNanos / workers);
        long seconds = Math.max(1, Math.min(60, (nanos + 999_999_999L) / 1_000_000_000L));
        return Duration.ofSeconds(seconds);
    }
}
