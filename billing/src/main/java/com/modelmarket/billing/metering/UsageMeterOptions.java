package com.modelmarket.billing.metering;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link UsageMeter}. Start from {@link #defaults(Path)} and change what you need
 * with the {@code with...} methods.
 *
 * @param journalDirectory where the journal files live (created if missing); one meter per directory
 * @param flushInterval how often buffered records are flushed at the latest (default 1 s)
 * @param batchSize records per sink write; a full batch is flushed at once (default 500)
 * @param maxBuffered records held in memory at most, waiting or being written (default 50,000);
 *     beyond it records are dropped and counted
 * @param maxJournalBytes bound of all journal files together (default 256 MiB)
 * @param maxJournalFileBytes a journal file is closed once it would grow past this (default 4 MiB)
 * @param retryInterval how long after a sink failure the meter tries the sink again (default 5 s)
 * @param writeTimeout a sink write that has not answered by then counts as failed (default 5 s)
 * @param closeTimeout how long {@link UsageMeter#close()} may take at most (default 10 s)
 */
public record UsageMeterOptions(
        Path journalDirectory,
        Duration flushInterval,
        int batchSize,
        int maxBuffered,
        long maxJournalBytes,
        long maxJournalFileBytes,
        Duration retryInterval,
        Duration writeTimeout,
        Duration closeTimeout) {

    public UsageMeterOptions {
        Objects.requireNonNull(journalDirectory, "journalDirectory");
        requirePositive("flushInterval", flushInterval);
        requirePositive("retryInterval", retryInterval);
        requirePositive("writeTimeout", writeTimeout);
        requirePositive("closeTimeout", closeTimeout);
        if (batchSize <= 0 || maxBuffered < batchSize) {
            throw new IllegalArgumentException("need 0 < batchSize <= maxBuffered, got " + batchSize + " and " + maxBuffered);
        }
        if (maxJournalFileBytes <= 0 || maxJournalBytes < maxJournalFileBytes) {
            throw new IllegalArgumentException("need 0 < maxJournalFileBytes <= maxJournalBytes");
        }
    }

    public static UsageMeterOptions defaults(Path journalDirectory) {
        return new UsageMeterOptions(journalDirectory, Duration.ofSeconds(1), 500, 50_000,
                256L << 20, 4L << 20, Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    public UsageMeterOptions withFlushInterval(Duration value) {
        return new UsageMeterOptions(journalDirectory, value, batchSize, maxBuffered, maxJournalBytes,
                maxJournalFileBytes, retryInterval, writeTimeout, closeTimeout);
    }

    public UsageMeterOptions withBatchSize(int value) {
        return new UsageMeterOptions(journalDirectory, flushInterval, value, maxBuffered, maxJournalBytes,
                maxJournalFileBytes, retryInterval, writeTimeout, closeTimeout);
    }

    public UsageMeterOptions withMaxBuffered(int value) {
        return new UsageMeterOptions(journalDirectory, flushInterval, batchSize, value, maxJournalBytes,
                maxJournalFileBytes, retryInterval, writeTimeout, closeTimeout);
    }

    public UsageMeterOptions withJournalBounds(long maxBytes, long maxFileBytes) {
        return new UsageMeterOptions(journalDirectory, flushInterval, batchSize, maxBuffered, maxBytes,
                maxFileBytes, retryInterval, writeTimeout, closeTimeout);
    }

    public UsageMeterOptions withRetryInterval(Duration value) {
        return new UsageMeterOptions(journalDirectory, flushInterval, batchSize, maxBuffered, maxJournalBytes,
                maxJournalFileBytes, value, writeTimeout, closeTimeout);
    }

    public UsageMeterOptions withWriteTimeout(Duration value) {
        return new UsageMeterOptions(journalDirectory, flushInterval, batchSize, maxBuffered, maxJournalBytes,
                maxJournalFileBytes, retryInterval, value, closeTimeout);
    }

    public UsageMeterOptions withCloseTimeout(Duration value) {
        return new UsageMeterOptions(journalDirectory, flushInterval, batchSize, maxBuffered, maxJournalBytes,
                maxJournalFileBytes, retryInterval, writeTimeout, value);
    }

    private static void requirePositive(String name, Duration value) {
        Objects.requireNonNull(value, name);
        if (value.toMillis() < 1) {
            throw new IllegalArgumentException(name + " must be at least 1 ms, got " + value);
        }
    }
}
