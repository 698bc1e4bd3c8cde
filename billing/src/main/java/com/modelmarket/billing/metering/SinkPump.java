package com.modelmarket.billing.metering;

import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves durable records to the sink: from memory, where each group commit leaves its records after
 * the fsync, or read back from the journal files marked for replay, oldest first. A failed write
 * lets go of every durable record in memory (the journal has them: keeping them would only fill the
 * window), and so does a slow sink once they would fill more than half the window. A journal file
 * is confirmed, and deleted once the sink has all of it, on a worker thread. Meter context only;
 * {@link MeterLoop} decides when a write starts, one at a time.
 */
final class SinkPump {

    private static final Logger LOG = LoggerFactory.getLogger(UsageMeter.class);

    /** One group commit, in memory after its fsync, waiting for the sink; {@code sequence} is its journal file. */
    private record Chunk(long sequence, UsageCommit commit) {
    }

    private final Context context;
    private final UsageMeterOptions options;
    private final UsageJournal journal;
    private final UsageIntake intake;
    private final MeterCounters counters;
    private final SinkWriter writer;
    private final ArrayDeque<Chunk> inMemory = new ArrayDeque<>();
    private int inMemoryRecords;

    SinkPump(Context context, UsageMeterOptions options, UsageJournal journal, UsageIntake intake, MeterCounters counters,
             SinkWriter writer) {
        this.context = context;
        this.options = options;
        this.journal = journal;
        this.intake = intake;
        this.counters = counters;
        this.writer = writer;
    }

    /** A group commit just fsynced to journal file {@code sequence}: kept for the sink, or left to the journal if it is down. */
    void committed(long sequence, UsageCommit commit) {
        if (!writer.available()) {
            intake.free(commit.size());
            markForReplay(List.of(sequence));
            return;
        }
        inMemory.add(new Chunk(sequence, commit));
        inMemoryRecords += commit.size();
        if (inMemoryRecords > options.windowRecords() / 2) {
            letGoOfDurable();
        }
    }

    boolean sinkAvailable() {
        return writer.available();
    }

    boolean hasRecordsInMemory() {
        return inMemoryRecords > 0;
    }

    /**
     * Writes one batch of durable commits from memory, whole commits up to {@code batchSize} records
     * (at least one commit, however large); true if it succeeded.
     */
    Future<Boolean> writeDurable() {
        List<UsageCommit> batch = new ArrayList<>();
        Map<Long, Long> perFile = new LinkedHashMap<>();
        int records = 0;
        while (!inMemory.isEmpty() && (batch.isEmpty() || records + inMemory.peek().commit.size() <= options.batchSize())) {
            Chunk chunk = inMemory.poll();
            batch.add(chunk.commit);
            records += chunk.commit.size();
            perFile.merge(chunk.sequence, (long) chunk.commit.size(), Long::sum);
        }
        int written = records;
        inMemoryRecords -= written;
        return writer.write(batch).transform(ar -> {
            intake.free(written);
            if (ar.succeeded()) {
                writer.succeeded();
                counters.written.addAndGet(written);
                context.executeBlocking(() -> {
                    for (Map.Entry<Long, Long> file : perFile.entrySet()) {
                        journal.confirm(file.getKey(), file.getValue());
                    }
                    return null;
                }).onFailure(e -> LOG.warn("cannot delete a written usage journal file: {}", e.toString()));
                return Future.succeededFuture(true);
            }
            markForReplay(perFile.keySet());
            sinkFailed(ar.cause());
            return Future.succeededFuture(false);
        });
    }

    /** At close: writes durable records in memory while the sink answers; the journal keeps whatever is left. */
    Future<Void> writeWhatIsInMemory() {
        if (inMemoryRecords == 0 || !writer.available()) {
            return Future.succeededFuture();
        }
        return writeDurable().compose(ok -> ok ? writeWhatIsInMemory() : Future.succeededFuture());
    }

    /** Writes commits the journal refused straight to the sink; true if it took them. */
    Future<Boolean> writeNotJournaled(List<UsageCommit> commits) {
        return writer.write(commits).transform(ar -> {
            if (ar.succeeded()) {
                writer.succeeded();
                counters.written.addAndGet(UsageCommit.recordCount(commits));
                return Future.succeededFuture(true);
            }
            sinkFailed(ar.cause());
            return Future.succeededFuture(false);
        });
    }

    /** Replays the oldest journal file to replay; true if the sink took it. */
    Future<Boolean> replayOldest() {
        return context.<Optional<UsageJournal.Batch>>executeBlocking(journal::oldestToReplay).transform(read -> {
            if (read.failed()) {
                LOG.error("cannot read usage journal {}; replay waits", options.journalDirectory(), read.cause());
                return Future.succeededFuture(false);
            }
            if (read.result().isEmpty()) {
                return Future.succeededFuture(false);
            }
            UsageJournal.Batch batch = read.result().get();
            return writer.writeAll(batch.commits(), 0).transform(sent -> {
                if (sent.failed()) {
                    sinkFailed(sent.cause());
                    return Future.succeededFuture(false);
                }
                writer.succeeded();
                counters.written.addAndGet(batch.recordCount());
                counters.replayed.addAndGet(batch.recordCount());
                return context.executeBlocking(() -> {
                    journal.remove(batch);
                    return true;
                }).otherwise(e -> {
                    // The sink has the records; replaying the file again later only sends duplicates.
                    LOG.error("cannot delete replayed usage journal file {}", batch.file(), e);
                    return false;
                });
            });
        });
    }

    private void sinkFailed(Throwable cause) {
        writer.failed(cause);
        letGoOfDurable(); // the journal has them; keeping them would only fill the window
    }

    /** Durable records in memory are dropped from memory only: their journal files will be replayed. */
    private void letGoOfDurable() {
        List<Long> files = new ArrayList<>();
        for (Chunk chunk : inMemory) {
            files.add(chunk.sequence);
        }
        intake.free(inMemoryRecords);
        inMemory.clear();
        inMemoryRecords = 0;
        markForReplay(files);
    }

    private void markForReplay(Iterable<Long> sequences) {
        context.executeBlocking(() -> {
            for (long sequence : sequences) {
                journal.markForReplay(sequence);
            }
            return null;
        });
    }
}
