package com.modelmarket.billing.metering;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link UsageMeter}. Start from {@link #defaults(Path)} and change what you need
 * with the {@code with...} methods.
 *
 * @param journalDirectory where the journal files live (created if missing); one meter per directory
 * @param groupCommitInterval the group-commit window: accepted records are fsynced to the journal
 *     at least this often, one fsync for all of them (default 50 ms); what a {@code kill -9} or a
 *     power cut can lose is the records of one window (and of the fsync in progress)
 * @param ackAfterFsync whether {@link UsageMeter.Reservation#record} completes only once the record
 *     is durable (answers wait up to one window; nothing answered is ever lost) instead of at once
 *     (default false)
 * @param batchSize records per sink write at most (default 4,096)
 * @param windowRecords records held in memory at most: reserved, not yet durable, or durable and
 *     waiting for the sink (default 50,000); when it is full, {@link UsageMeter#tryReserve} refuses
 * @param maxJournalBytes bound of all journal files together (default 256 MiB)
 * @param maxJournalFileBytes a journal file is sealed once it would grow past this (default 4 MiB)
 * @param retryInterval how long after a sink failure the meter tries the sink again (default 2 s)
 * @param writeTimeout a sink write that has not answered by then counts as failed (default 5 s)
 * @param closeTimeout how long {@link UsageMeter#close()} may take at most (default 10 s)
 */
public record UsageMeterOptions(
        Path journalDirectory,
        Duration groupCommitInterval,
        boolean ackAfterFsync,
        int batchSize,
        int windowRecords,
        long maxJournalBytes,
        long maxJournalFileBytes,
        Duration retryInterval,
        Duration writeTimeout,
        Duration closeTimeout) {

    public UsageMeterOptions {
        Objects.requireNonNull(journalDirectory, "journalDirectory");
        requirePositive("groupCommitInterval", groupCommitInterval);
        requirePositive("retryInterval", retryInterval);
        requirePositive("writeTimeout", writeTimeout);
        requirePositive("closeTimeout", closeTimeout);
        if (batchSize <= 0 || windowRecords <= 0) {
            throw new IllegalArgumentException("need batchSize > 0 and windowRecords > 0, got " + batchSize + " and " + windowRecords);
        }
        if (maxJournalFileBytes <= 0 || maxJournalBytes < maxJournalFileBytes) {
            throw new IllegalArgumentException("need 0 < maxJournalFileBytes <= maxJournalBytes");
        }
    }

    public static UsageMeterOptions defaults(Path journalDirectory) {
        return new UsageMeterOptions(journalDirectory, Duration.ofMillis(50), false, 4_096, 50_000,
                256L << 20, 4L << 20, Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    public UsageMeterOptions withGroupCommitInterval(Duration value) {
        return new UsageMeterOptions(journalDirectory, value, ackAfterFsync, batchSize, windowRecords, maxJournalBytes,
                maxJournalFileBytes, retryInterval, writeTimeout, closeTimeout);
    }

    public UsageMeterOptions withAckAfterFsync(boolean value) {
        return new UsageMeterOptions(journalDirectory, groupCommitInterval, value, batchSize, windowRecords, maxJournalBytes,
                maxJournalFileBytes, retryInterval, writeTimeout, closeTimeout);
    }

    public UsageMeterOptions withBatchSize(int value) {
        return new UsageMeterOptions(journalDirectory, groupCommitInterval, ackAfterFsync, value, windowRecords, maxJournalBytes,
                maxJournalFileBytes, retryInterval, writeTimeout, closeTimeout);
    }

    public UsageMeterOptions withWindowRecords(int value) {
        return new UsageMeterOptions(journalDirectory, groupCommitInterval, ackAfterFsync, batchSize, value, maxJournalBytes,
                maxJournalFileBytes, retryInterval, writeTimeout, closeTimeout);
    }

    public UsageMeterOptions withJournalBounds(long maxBytes, long maxFileBytes) {
        return new UsageMeterOptions(journalDirectory, groupCommitInterval, ackAfterFsync, batchSize, windowRecords, maxBytes,
                maxFileBytes, retryInterval, writeTimeout, closeTimeout);
    }

    public UsageMeterOptions withRetryInterval(Duration value) {
        return new UsageMeterOptions(journalDirectory, groupCommitInterval, ackAfterFsync, batchSize, windowRecords, maxJournalBytes,
                maxJournalFileBytes, value, writeTimeout, closeTimeout);
    }

    public UsageMeterOptions withWriteTimeout(Duration value) {
        return new UsageMeterOptions(journalDirectory, groupCommitInterval, ackAfterFsync, batchSize, windowRecords, maxJournalBytes,
                maxJournalFileBytes, retryInterval, value, closeTimeout);
    }

    public UsageMeterOptions withCloseTimeout(Duration value) {
        return new UsageMeterOptions(journalDirectory, groupCommitInterval, ackAfterFsync, batchSize, windowRecords, maxJournalBytes,
                maxJournalFileBytes, retryInterval, writeTimeout, value);
    }

    private static void requirePositive(String name, Duration value) {
        Objects.requireNonNull(value, name);
        if (value.toMillis() < 1) {
            throw new IllegalArgumentException(name + " must be at least 1 ms, got " + value);
        }
    }
}
