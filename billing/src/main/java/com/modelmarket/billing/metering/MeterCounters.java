package com.modelmarket.billing.metering;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What a {@link UsageMeter} counts, read by {@link UsageMeter#stats()} from any thread. Written
 * by the callers ({@code accepted}, {@code refused}) and by the meter's context (the rest).
 */
final class MeterCounters {

    final AtomicLong accepted = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong durable = new AtomicLong();
    final AtomicLong written = new AtomicLong();
    final AtomicLong replayed = new AtomicLong();
    final AtomicLong lostAtClose = new AtomicLong();
    final AtomicLong sinkWrites = new AtomicLong();
    final AtomicLong sinkWriteNanos = new AtomicLong();
    /** Whether the last sink write succeeded (or a retry is due); set by {@link SinkWriter} only. */
    volatile boolean sinkAvailable = true;

    UsageMeterStats snapshot(int window, UsageJournal journal, boolean backPressure) {
        return new UsageMeterStats(accepted.get(), refused.get(), window, durable.get(), journal.pendingRecords(),
                journal.pendingBytes(), written.get(), replayed.get(), lostAtClose.get(), sinkWrites.get(),
                sinkWriteNanos.get(), sinkAvailable, backPressure);
    }
}
