package com.modelmarket.billing.metering;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * The meter's clock: every {@code groupCommitInterval} a group commit (unless one runs), the next
 * sink write (unless one runs) and the back-pressure check; right after a commit, another one at
 * once if a full batch waits or the window has passed. Sink work in order of age: journal files to
 * replay first, then durable records in memory, then records the journal refused. Meter context
 * only; {@link #stop()} ends it for the close sequence, which then runs its steps itself.
 */
final class MeterLoop {

    private final Vertx vertx;
    private final Context context;
    private final UsageMeterOptions options;
    private final UsageJournal journal;
    private final UsageIntake intake;
    private final GroupCommitter committer;
    private final SinkPump pump;
    private final SinkWriter writer;
    private long timerId = -1;
    private boolean stopping;
    private boolean sinkBusy;
    private Promise<Void> sinkIdle;

    MeterLoop(Vertx vertx, Context context, UsageMeterOptions options, UsageJournal journal, UsageIntake intake,
              GroupCommitter committer, SinkPump pump, SinkWriter writer) {
        this.vertx = vertx;
        this.context = context;
        this.options = options;
        this.journal = journal;
        this.intake = intake;
        this.committer = committer;
        this.pump = pump;
        this.writer = writer;
    }

    void start() {
        timerId = vertx.setPeriodic(options.groupCommitInterval().toMillis(), id -> tick());
    }

    /** No more ticks, commits or sink writes from the loop; the ones running finish. */
    void stop() {
        stopping = true;
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
    }

    /** Completes once neither a group commit nor a sink write runs. */
    Future<Void> whenQuiet() {
        if (committer.committing()) {
            return committer.whenCommitted().compose(v -> whenQuiet());
        }
        if (!sinkBusy) {
            return Future.succeededFuture();
        }
        if (sinkIdle == null) {
            sinkIdle = Promise.promise();
        }
        return sinkIdle.future().compose(v -> whenQuiet());
    }

    private void tick() {
        if (stopping) {
            return;
        }
        if (!committer.committing()) {
            committer.commitOnce().onComplete(ar -> afterCommit());
        }
        pumpSink();
        intake.checkBackPressureEnded();
    }

    /** Right after a commit: commit again at once if a full batch waits or the window has passed; feed the sink. */
    private void afterCommit() {
        if (stopping) {
            return;
        }
        if (committer.dueAgain()) {
            committer.commitOnce().onComplete(ar -> afterCommit());
        }
        pumpSink();
    }

    /** Starts the next sink write unless one runs: journal files to replay first, then memory. */
    private void pumpSink() {
        if (sinkBusy || stopping || !writer.ready()) {
            return;
        }
        Future<Boolean> work;
        if (journal.replayFiles() > 0) {
            work = pump.replayOldest();
        } else if (pump.hasRecordsInMemory()) {
            work = pump.writeDurable();
        } else if (committer.hasRefusedRecords()) {
            work = committer.writeRetained();
        } else {
            return;
        }
        sinkBusy = true;
        work.onComplete(ar -> {
            sinkBusy = false;
            if (sinkIdle != null) {
                Promise<Void> waiting = sinkIdle;
                sinkIdle = null;
                waiting.complete();
            }
            if (ar.succeeded() && ar.result()) {
                context.runOnContext(v -> pumpSink());
            }
        });
    }
}
