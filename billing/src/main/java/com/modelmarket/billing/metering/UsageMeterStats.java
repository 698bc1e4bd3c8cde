package com.modelmarket.billing.metering;

/**
 * A snapshot of a {@link UsageMeter}. When the meter is idle, every record it accepted or refused
 * is in exactly one place: {@code recorded == written + journaled + buffered + dropped}.
 *
 * @param recorded records passed to {@link UsageMeter#record} so far
 * @param buffered records in memory now (waiting, being written, or kept because the journal was full)
 * @param journaled records in the journal now, waiting to be replayed
 * @param written records the sink confirmed so far, replayed ones included (each once)
 * @param replayed of {@code written}, those that came from the journal
 * @param dropped records lost so far: refused while memory and journal were full, after close, or abandoned at the close deadline
 * @param sinkAvailable whether the last sink write succeeded (or a retry is due)
 */
public record UsageMeterStats(
        long recorded,
        long buffered,
        long journaled,
        long written,
        long replayed,
        long dropped,
        boolean sinkAvailable) {
}
