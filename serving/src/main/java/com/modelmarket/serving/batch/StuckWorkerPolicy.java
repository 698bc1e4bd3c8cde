package com.modelmarket.serving.batch;

import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.metrics.ModelMetrics;
import io.vertx.core.Promise;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which of a {@link Batcher}'s workers are stuck, and what that costs. A batch whose worker runs
 * {@code stuckGrace} past the latest deadline of its requests has its worker declared stuck: taken
 * out of service, replaced at once if the scaler lends a spare thread (at most {@code maxWorkers}
 * per version), otherwise holding its worker slot until the batch returns. A worker that fails
 * with an {@link Error} or a {@link BatchWorker.BrokenException} is broken and replaced too.
 *
 * <p>Guarded by the batcher's lock; the scaler's {@code lendSpare} is called under it.
 */
final class StuckWorkerPolicy {

    private static final Logger LOG = LoggerFactory.getLogger(Batcher.class);

    /** A batch on its worker; {@code stuckAtNanos} is when the worker counts as stuck. */
    static final class InFlight {
        final BatchWorker worker;
        final long startedNanos;
        final long stuckAtNanos;
        final Promise<Void> ended = Promise.promise();
        boolean replaced;

        InFlight(BatchWorker worker, long startedNanos, long stuckAtNanos) {
            this.worker = worker;
            this.startedNanos = startedNanos;
            this.stuckAtNanos = stuckAtNanos;
        }
    }

    private final ModelKey key;
    private final int maxWorkers;
    private final long graceNanos;
    private final Batcher.Scaler scaler;
    private final ModelMetrics metrics;
    /** Batches now computing on a worker in service. */
    private final Map<Batch, InFlight> inFlight = new IdentityHashMap<>();
    /** Batches whose worker was declared stuck, until they return. */
    private final Map<Batch, InFlight> abandoned = new IdentityHashMap<>();
    /** Stuck workers lent no spare thread: each still holds a worker slot. */
    private int unreplaced;

    StuckWorkerPolicy(ModelKey key, int maxWorkers, Duration grace, Batcher.Scaler scaler, ModelMetrics metrics) {
        this.key = key;
        this.maxWorkers = maxWorkers;
        this.graceNanos = grace.toNanos();
        this.scaler = scaler;
        this.metrics = metrics;
    }

    /** A batch starts on {@code worker}: it counts as stuck the grace after its requests' latest deadline. */
    InFlight started(Batch batch, BatchWorker worker, long now) {
        long latest = Long.MIN_VALUE; // nanoTime() may be negative
        for (PendingRequest r : batch.requests()) {
            latest = Math.max(latest, r.deadlineNanos);
        }
        long stuckAt = latest > Long.MAX_VALUE - graceNanos ? Long.MAX_VALUE : latest + graceNanos;
        InFlight f = new InFlight(worker, now, stuckAt);
        inFlight.put(batch, f);
        return f;
    }

    /**
     * A batch ended. True if its worker was still in service; false if it had been declared stuck:
     * its result is then dropped, and the worker slot or spare thread it held is free again.
     */
    boolean ended(Effects fx, InFlight f, Batch batch) {
        if (inFlight.remove(batch) != null) {
            return true;
        }
        abandoned.remove(batch);
        if (f.replaced) {
            fx.act(scaler::returnSpare);
        } else {
            unreplaced--;
        }
        LOG.info("{}: stuck worker returned from batch {} after {} ms; its result is discarded", key,
                batch.id(), (System.nanoTime() - f.startedNanos) / 1_000_000);
        return false;
    }

    /**
     * Declares stuck the worker of every batch past its stuck time and hands each to {@code
     * abandon}; returns the earliest stuck time still ahead.
     */
    long sweep(long now, BiConsumer<Batch, InFlight> abandon) {
        long next = Long.MAX_VALUE;
        for (Iterator<Map.Entry<Batch, InFlight>> it = inFlight.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Batch, InFlight> e = it.next();
            Batch batch = e.getKey();
            InFlight f = e.getValue();
            if (f.stuckAtNanos <= now) {
                it.remove(); // an IdentityHashMap entry is void once removed: read it first
                abandoned.put(batch, f);
                f.replaced = abandoned.size() - unreplaced <= maxWorkers && scaler.lendSpare(f.worker);
                if (!f.replaced) {
                    unreplaced++;
                }
                metrics.workerReplaced(true);
                LOG.warn("{}: worker stuck in batch {} of {} item(s) for {} ms, {} ms past its requests' deadlines; "
                                + "abandoned and {}", key, batch.id(), batch.items(), (now - f.startedNanos) / 1_000_000,
                        (now - f.stuckAtNanos + graceNanos) / 1_000_000,
                        f.replaced ? "replaced" : "not replaced (no spare thread left): its slot stays taken until it returns");
                abandon.accept(batch, f);
            } else {
                next = Math.min(next, f.stuckAtNanos);
            }
        }
        return next;
    }

    /** Workers declared stuck whose batch has not returned yet. */
    int stuck() {
        return abandoned.size();
    }

    /** Worker slots not held by a stuck worker. */
    int freeSlots() {
        return maxWorkers - unreplaced;
    }

    /** Whether every worker slot is held by a stuck worker: the version then refuses requests. */
    boolean allSlotsHeld() {
        return unreplaced >= maxWorkers;
    }

    OverloadedException allStuck() {
        return new OverloadedException(key + ": every worker is stuck in a forward pass; retry later",
                Duration.ofNanos(Math.max(1_000_000_000L, graceNanos)));
    }

    /** Whether a batch failure says the worker itself is unusable. */
    static boolean isBroken(Throwable failure) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
            if (t instanceof Error || t instanceof BatchWorker.BrokenException) {
                return true;
            }
        }
        return false;
    }
}
