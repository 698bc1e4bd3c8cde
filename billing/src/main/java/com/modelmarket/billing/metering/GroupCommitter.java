package com.modelmarket.billing.metering;

import com.modelmarket.billing.metering.UsageIntake.Accepted;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commits: all the records accepted since the last commit (up to {@link #MAX_COMMIT_RECORDS})
 * appended to the journal in one frame and one fsync, on a worker thread; then they are durable and
 * go to the {@link SinkPump}. If the journal refuses a commit, its records are retained in memory,
 * in their order and ahead of newer ones, and written straight to the sink while it is up (which
 * makes them durable). Meter context only, one commit at a time.
 */
final class GroupCommitter {

    private static final Logger LOG = LoggerFactory.getLogger(UsageMeter.class);
    /** Records in one group commit at most (a frame of about 1.5 MiB); more waiting are committed right after. */
    static final int MAX_COMMIT_RECORDS = 16_384;

    private final Context context;
    private final UsageMeterOptions options;
    private final UsageJournal journal;
    private final UsageIntake intake;
    private final MeterCounters counters;
    private final SinkPump pump;
    private final ArrayDeque<Accepted> retained = new ArrayDeque<>();
    private boolean committing;
    private boolean journalRefusing;
    private long lastCommitNanos;
    private Promise<Void> commitDone;

    GroupCommitter(Context context, UsageMeterOptions options, UsageJournal journal, UsageIntake intake,
                   MeterCounters counters, SinkPump pump) {
        this.context = context;
        this.options = options;
        this.journal = journal;
        this.intake = intake;
        this.counters = counters;
        this.pump = pump;
    }

    boolean committing() {
        return committing;
    }

    /** Right after a commit: whether to commit again at once (a full batch waits, or the window has passed). */
    boolean dueAgain() {
        boolean due = System.nanoTime() - lastCommitNanos >= options.groupCommitInterval().toNanos();
        int waiting = intake.waiting();
        return !journalRefusing && !committing && (waiting >= MAX_COMMIT_RECORDS || (due && waiting > 0));
    }

    /** Whether records the journal refused wait to be written straight to the sink. */
    boolean hasRefusedRecords() {
        return journalRefusing && !retained.isEmpty();
    }

    /** Completes once no group commit is running (the sink may still be busy). */
    Future<Void> whenCommitted() {
        if (!committing) {
            return Future.succeededFuture();
        }
        if (commitDone == null) {
            commitDone = Promise.promise();
        }
        return commitDone.future();
    }

    /** One group commit of what waits (refused earlier first); true unless the journal refused it. */
    Future<Boolean> commitOnce() {
        List<Accepted> batch = takePending(MAX_COMMIT_RECORDS);
        if (batch.isEmpty()) {
            return Future.succeededFuture(true);
        }
        committing = true;
        lastCommitNanos = System.nanoTime();
        List<UsageRecord> records = recordsOf(batch);
        return context.<Long>executeBlocking(() -> journal.append(records)).transform(ar -> {
            committing = false;
            if (ar.succeeded()) {
                committed(ar.result(), batch, records);
            } else {
                keep(batch);
                if (!journalRefusing) {
                    journalRefusing = true;
                    LOG.warn("usage journal refused a commit; keeping {} records in memory and writing them to the sink "
                            + "while it is up: {}", retained.size(), ar.cause().toString());
                }
            }
            if (commitDone != null) {
                Promise<Void> waiting = commitDone;
                commitDone = null;
                waiting.complete();
            }
            return Future.succeededFuture(ar.succeeded());
        });
    }

    private void committed(long sequence, List<Accepted> batch, List<UsageRecord> records) {
        counters.durable.addAndGet(records.size());
        batch.forEach(Accepted::completeDurable);
        if (journalRefusing) {
            journalRefusing = false;
            LOG.info("usage journal {} accepts records again", options.journalDirectory());
        }
        pump.committed(sequence, records);
    }

    /** Writes records the journal refused straight to the sink, which makes them durable; true if it succeeded. */
    Future<Boolean> writeRetained() {
        List<Accepted> batch = new ArrayList<>();
        while (batch.size() < options.batchSize() && !retained.isEmpty()) {
            batch.add(retained.poll());
        }
        return pump.writeNotJournaled(recordsOf(batch)).map(ok -> {
            if (ok) {
                counters.durable.addAndGet(batch.size());
                intake.free(batch.size());
                batch.forEach(Accepted::completeDurable);
            } else {
                keep(batch);
            }
            return ok;
        });
    }

    /** At close: commits everything accepted; what the journal refuses goes to the sink directly if it is up. */
    Future<Void> commitAll() {
        if (retained.isEmpty() && intake.waiting() == 0) {
            return Future.succeededFuture();
        }
        return commitOnce().compose(ok -> ok ? commitAll() : writeAllDirect());
    }

    private Future<Void> writeAllDirect() {
        keep(takePending(Integer.MAX_VALUE));
        if (retained.isEmpty() || !pump.sinkAvailable()) {
            return Future.succeededFuture();
        }
        return writeRetained().compose(ok -> ok ? writeAllDirect() : Future.succeededFuture());
    }

    /** After close: takes every record neither journaled nor written, retained or still incoming. */
    List<Accepted> takeLeftOver() {
        List<Accepted> left = new ArrayList<>(retained);
        retained.clear();
        Accepted next;
        while ((next = intake.poll()) != null) {
            left.add(next);
        }
        return left;
    }

    private List<Accepted> takePending(int max) {
        List<Accepted> batch = new ArrayList<>(Math.min(max, retained.size() + intake.waiting()));
        while (batch.size() < max && !retained.isEmpty()) {
            batch.add(retained.poll());
        }
        while (batch.size() < max) {
            Accepted next = intake.poll();
            if (next == null) {
                break;
            }
            batch.add(next);
        }
        return batch;
    }

    /** Puts records that are not durable back in front, in their order. */
    private void keep(List<Accepted> batch) {
        for (int i = batch.size() - 1; i >= 0; i--) {
            retained.addFirst(batch.get(i));
        }
    }

    private static List<UsageRecord> recordsOf(List<Accepted> batch) {
        List<UsageRecord> records = new ArrayList<>(batch.size());
        for (Accepted a : batch) {
            records.add(a.record());
        }
        return records;
    }
}
