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

    /** Records of one group commit, in memory after their fsync, waiting for the sink. */
    private static final class Chunk {
        final long sequence;
        final List<UsageRecord> records;
        int next;

        Chunk(long sequence, List<UsageRecord> records) {
            this.sequence = sequence;
            this.records = records;
        }
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

    /** The records of group commit {@code sequence}, just fsynced: kept for the sink, or left to the journal if it is down. */
    void committed(long sequence, List<UsageRecord> records) {
        if (!writer.available()) {
            intake.free(records.size());
            markForReplay(List.of(sequence));
            return;
        }
        inMemory.add(new Chunk(sequence, records));
        inMemoryRecords += records.size();
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

    /** Writes one batch of durable records from memory; true if it succeeded. */
    Future<Boolean> writeDurable() {
        List<UsageRecord> batch = new ArrayList<>(Math.min(options.batchSize(), inMemoryRecords));
        Map<Long, Long> perFile = new LinkedHashMap<>();
        while (batch.size() < options.batchSize() && !inMemory.isEmpty()) {
            Chunk chunk = inMemory.peek();
            int take = Math.min(options.batchSize() - batch.size(), chunk.records.size() - chunk.next);
            batch.addAll(chunk.records.subList(chunk.next, chunk.next + take));
            chunk.next += take;
            perFile.merge(chunk.sequence, (long) take, Long::sum);
            if (chunk.next == chunk.records.size()) {
                inMemory.poll();
            }
        }
        inMemoryRecords -= batch.size();
        return writer.write(batch).transform(ar -> {
            intake.free(batch.size());
            if (ar.succeeded()) {
                writer.succeeded();
                counters.written.addAndGet(batch.size());
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

    /** Writes records the journal refused straight to the sink; true if it took them. */
    Future<Boolean> writeNotJournaled(List<UsageRecord> records) {
        return writer.write(records).transform(ar -> {
            if (ar.succeeded()) {
                writer.succeeded();
                counters.written.addAndGet(records.size());
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
            return writer.writeAll(batch.records(), 0).transform(sent -> {
                if (sent.failed()) {
                    sinkFailed(sent.cause());
                    return Future.succeededFuture(false);
                }
                writer.succeeded();
                counters.written.addAndGet(batch.records().size());
                counters.replayed.addAndGet(batch.records().size());
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
