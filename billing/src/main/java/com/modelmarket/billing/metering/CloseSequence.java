package com.modelmarket.billing.metering;

import com.modelmarket.billing.metering.UsageIntake.Accepted;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a {@link UsageMeter} closes: no new reservations, the loop stopped; the journal first,
 * whatever the sink is doing (a hanging database must not cost the records still in memory): wait
 * for the running commit, commit everything accepted (what the journal refuses goes straight to
 * the sink if it is up); then, once no sink write runs, write the durable records in memory for as
 * long as the sink answers; close the journal. All within {@code closeTimeout}: whatever is then
 * neither journaled nor written is lost, counted and logged, and so is a record that arrives after.
 */
final class CloseSequence {

    private static final Logger LOG = LoggerFactory.getLogger(UsageMeter.class);

    private final Vertx vertx;
    private final Context context;
    private final UsageMeterOptions options;
    private final UsageJournal journal;
    private final UsageIntake intake;
    private final MeterCounters counters;
    private final MeterLoop loop;
    private final GroupCommitter committer;
    private final SinkPump pump;
    private final Promise<Void> stopped = Promise.promise();
    private volatile boolean entered;

    CloseSequence(Vertx vertx, Context context, UsageMeterOptions options, UsageJournal journal, UsageIntake intake,
                  MeterCounters counters, MeterLoop loop, GroupCommitter committer, SinkPump pump) {
        this.vertx = vertx;
        this.context = context;
        this.options = options;
        this.journal = journal;
        this.intake = intake;
        this.counters = counters;
        this.loop = loop;
        this.committer = committer;
        this.pump = pump;
    }

    /** Whether the meter's stop has begun (then {@link #stopped()} completes when it ends). */
    boolean entered() {
        return entered;
    }

    Future<Void> stopped() {
        return stopped.future();
    }

    /** Runs the sequence on the meter's context; the future completes when it ends or the close timeout passed. */
    Future<Void> run() {
        entered = true;
        intake.stopAccepting();
        loop.stop();
        long deadline = vertx.setTimer(options.closeTimeout().toMillis(), id -> {
            LOG.error("usage meter did not finish closing within {}", options.closeTimeout());
            finish();
        });
        committer.whenCommitted()
                .compose(v -> committer.commitAll())
                .compose(v -> loop.whenQuiet())
                .compose(v -> pump.writeWhatIsInMemory())
                .eventually(() -> context.executeBlocking(() -> {
                    journal.close();
                    return null;
                }))
                .onComplete(ar -> {
                    vertx.cancelTimer(deadline);
                    if (ar.failed()) {
                        LOG.error("usage meter failed while closing", ar.cause());
                    }
                    finish();
                });
        return stopped.future();
    }

    /** After close: whatever is neither journaled nor written is lost, counted and logged. Any thread. */
    synchronized void loseWhatIsLeft() {
        List<Accepted> lost = committer.takeLeftOver();
        if (!lost.isEmpty()) {
            counters.lostAtClose.addAndGet(lost.size());
            intake.free(lost.size());
            lost.forEach(Accepted::failClosed);
            LOG.error("usage meter closed with {} records neither journaled nor written; they are lost", lost.size());
        }
    }

    private void finish() {
        intake.markClosed();
        loseWhatIsLeft();
        stopped.tryComplete();
    }
}
