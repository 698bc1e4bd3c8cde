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
 * go to the {@link SinkPump}. Each commit gets its {@link UsageCommit} id when it is made and keeps
 * it. If the journal refuses a commit, it is retained in memory, whole and ahead of newer ones, and
 * either journaled later or written straight to the sink while it is up (which makes it durable). Meter context only, one commit at a time.
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
    /** A commit not yet durable (the journal refused it), with the callers waiting on it. */
    private record Pending(UsageCommit commit, List<Accepted> accepted) {
    }

    private final ArrayDeque<Pending> retained = new ArrayDeque<>();
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

    /** One group commit (the oldest the journal refused, else what waits); true unless the journal refused it. */
    Future<Boolean> commitOnce() {
        Pending next = retained.isEmpty() ? takeNew(MAX_COMMIT_RECORDS) : retained.poll();
        if (next == null) {
            return Future.succeededFuture(true);
        }
        committing = true;
        lastCommitNanos = System.nanoTime();
        return context.<Long>executeBlocking(() -> journal.append(next.commit)).transform(ar -> {
            committing = false;
            if (ar.succeeded()) {
                committed(ar.result(), next);
            } else {
                retained.addFirst(next);
                if (!journalRefusing) {
                    journalRefusing = true;
                    LOG.warn("usage journal refused a commit; keeping {} commits in memory and writing them to the sink "
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

    private void committed(long sequence, Pending done) {
        counters.durable.addAndGet(done.commit.size());
        done.accepted.forEach(Accepted::completeDurable);
        if (journalRefusing) {
            journalRefusing = false;
            LOG.info("usage journal {} accepts records again", options.journalDirectory());
        }
        pump.committed(sequence, done.commit);
    }

    /**
     * Writes commits the journal refused straight to the sink, which makes them durable; true if it
     * succeeded. Whole commits, under the ids they were given, so a write that timed out but landed
     * is not counted again when they are written or journaled later.
     */
    Future<Boolean> writeRetained() {
        List<Pending> batch = new ArrayList<>();
        int records = 0;
        while (!retained.isEmpty() && (batch.isEmpty() || records + retained.peek().commit.size() <= options.batchSize())) {
            Pending p = retained.poll();
            batch.add(p);
            records += p.commit.size();
        }
        List<UsageCommit> commits = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            commits.add(p.commit);
        }
        int written = records;
        return pump.writeNotJournaled(commits).map(ok -> {
            if (ok) {
                counters.durable.addAndGet(written);
                intake.free(written);
                batch.forEach(p -> p.accepted.forEach(Accepted::completeDurable));
            } else {
                for (int i = batch.size() - 1; i >= 0; i--) {
                    retained.addFirst(batch.get(i));
                }
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
        Pending more;
        while ((more = takeNew(MAX_COMMIT_RECORDS)) != null) {
            retained.add(more);
        }
        if (retained.isEmpty() || !pump.sinkAvailable()) {
            return Future.succeededFuture();
        }
        return writeRetained().compose(ok -> ok ? writeAllDirect() : Future.succeededFuture());
    }

    /** After close: takes every record neither journaled nor written, retained or still incoming. */
    List<Accepted> takeLeftOver() {
        List<Accepted> left = new ArrayList<>();
        for (Pending p : retained) {
            left.addAll(p.accepted);
        }
        retained.clear();
        Accepted next;
        while ((next = intake.poll()) != null) {
            left.add(next);
        }
        return left;
    }

    /** Up to {@code max} newly accepted records as a commit under a fresh id; null if none wait. */
    private Pending takeNew(int max) {
        List<Accepted> batch = new ArrayList<>(Math.min(max, intake.waiting()));
        while (batch.size() < max) {
            Accepted next = intake.poll();
            if (next == null) {
                break;
            }
            batch.add(next);
        }
        return batch.isEmpty() ? null : new Pending(UsageCommit.of(recordsOf(batch)), batch);
    }

    private static List<UsageRecord> recordsOf(List<Accepted> batch) {
        List<UsageRecord> records = new ArrayList<>(batch.size());
        for (Accepted a : batch) {
            records.add(a.record());
        }
        return records;
    }
}
