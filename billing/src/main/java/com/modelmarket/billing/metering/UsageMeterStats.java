package com.modelmarket.billing.metering;

/**
 * A snapshot of a {@link UsageMeter}. Every accepted record is in memory, in the journal or in the
 * sink; none is dropped. When the meter is idle with the sink up, {@code window == 0} and the sink
 * holds every accepted record.
 *
 * @param accepted records taken for calls that were let through ({@link UsageMeter.Reservation#record})
 * @param refused calls refused because the window was full ({@link UsageMeter#tryReserve} failed)
 * @param window slots in use now: reserved, or records in memory not yet in the sink (nor let go to the journal)
 * @param durable records fsynced to the journal or confirmed by the sink, each once
 * @param journaled records in the journal the sink has not confirmed yet
 * @param journalBytes bytes of the journal files
 * @param written records the sink confirmed, replayed ones included (a replay may send a record again)
 * @param replayed of {@code written}, those read back from the journal
 * @param lostAtClose records that could be neither journaled nor written when the meter closed (a failing disk); 0 normally
 * @param sinkWrites sink writes answered, successes and failures
 * @param sinkWriteNanos total time of those writes
 * @param sinkAvailable whether the last sink write succeeded (or a retry is due)
 * @param backPressure whether calls are being refused now
 */
public record UsageMeterStats(
        long accepted,
        long refused,
        long window,
        long durable,
        long journaled,
        long journalBytes,
        long written,
        long replayed,
        long lostAtClose,
        long sinkWrites,
        long sinkWriteNanos,
        boolean sinkAvailable,
        boolean backPressure) {
}
