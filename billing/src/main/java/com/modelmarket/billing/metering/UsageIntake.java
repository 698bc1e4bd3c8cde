package com.modelmarket.billing.metering;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The callers' side of a {@link UsageMeter}: the bounded window of slots, the queue of accepted
 * records not yet taken by a group commit, and the back-pressure accounting (one log line when
 * refusals start, one when they end). Thread-safe: callers on any thread reserve, record and
 * release; the meter's context takes records and frees slots.
 */
final class UsageIntake {

    private static final Logger LOG = LoggerFactory.getLogger(UsageMeter.class);

    /** An accepted record, with the promise of its durability when the meter acknowledges after the fsync. */
    record Accepted(UsageRecord record, Promise<Void> durable, Context caller) {

        /** Completes the caller's promise, on the caller's context. */
        void completeDurable() {
            if (durable != null) {
                if (caller != null) {
                    caller.runOnContext(v -> durable.tryComplete());
                } else {
                    durable.tryComplete();
                }
            }
        }

        void failClosed() {
            if (durable != null) {
                durable.tryFail(new IllegalStateException("the usage meter is closed"));
            }
        }
    }

    private final int windowRecords;
    private final MeterCounters counters;
    private final UsageJournal journal;
    private final ConcurrentLinkedQueue<Accepted> incoming = new ConcurrentLinkedQueue<>();
    private final AtomicInteger incomingCount = new AtomicInteger();
    private final AtomicInteger window = new AtomicInteger();
    private final AtomicBoolean backPressure = new AtomicBoolean();
    private volatile long backPressureSinceNanos;
    private volatile long refusedBeforeBackPressure;
    private volatile boolean accepting = true;
    private volatile boolean closed;
    private long refusedAtLastTick; // meter context only

    UsageIntake(int windowRecords, MeterCounters counters, UsageJournal journal) {
        this.windowRecords = windowRecords;
        this.counters = counters;
        this.journal = journal;
    }

    /** Takes a slot; false when the window is full (counted as refused) or the meter no longer accepts. */
    boolean tryTake() {
        if (!accepting) {
            return false; // closing: the platform turns requests away before this
        }
        if (window.incrementAndGet() <= windowRecords) {
            return true;
        }
        window.decrementAndGet();
        long total = counters.refused.incrementAndGet();
        if (backPressure.compareAndSet(false, true)) {
            backPressureSinceNanos = System.nanoTime();
            refusedBeforeBackPressure = total - 1;
            LOG.warn("usage metering back-pressure: {} calls' usage is not yet durable (window of {}; sink {}, "
                            + "journal {} bytes); refusing calls with 503 until it drains",
                    window.get(), windowRecords, counters.sinkAvailable ? "up" : "down", journal.pendingBytes());
        }
        return false;
    }

    /** Queues a reserved slot's record for the next group commit. */
    void accept(Accepted a) {
        counters.accepted.incrementAndGet();
        incoming.add(a);
        incomingCount.incrementAndGet();
    }

    /** The next record waiting for a group commit, or null. */
    Accepted poll() {
        Accepted next = incoming.poll();
        if (next != null) {
            incomingCount.decrementAndGet();
        }
        return next;
    }

    /** Records waiting for a group commit. */
    int waiting() {
        return incomingCount.get();
    }

    /** Gives back {@code slots} slots: released calls, or records that reached the sink or were let go to the journal. */
    void free(int slots) {
        window.addAndGet(-slots);
    }

    /** Slots in use now. */
    int inWindow() {
        return window.get();
    }

    boolean backPressure() {
        return backPressure.get();
    }

    /** On each tick: back-pressure ends once a tick passed without a refusal and the window has room. */
    void checkBackPressureEnded() {
        long now = counters.refused.get();
        if (backPressure.get() && now == refusedAtLastTick && window.get() < windowRecords) {
            backPressure.set(false);
            LOG.info("usage metering back-pressure ended after {} ms; {} calls were refused",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - backPressureSinceNanos), now - refusedBeforeBackPressure);
        }
        refusedAtLastTick = now;
    }

    void stopAccepting() {
        accepting = false;
    }

    /** From now on, a record that arrives is lost at once (see {@link CloseSequence}). */
    void markClosed() {
        closed = true;
    }

    boolean isClosed() {
        return closed;
    }
}
