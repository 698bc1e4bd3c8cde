package com.modelmarket.billing.metering;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The usage intake. Its promise: <b>a call that was let through is metered</b>. A caller takes a
 * slot in a bounded window before the call runs ({@link #tryReserve}) and fills it with the call's
 * record ({@link Reservation#record}) or gives it back ({@link Reservation#release}); when the
 * window is full, {@code tryReserve} refuses and the call must not run. Nothing is ever dropped.
 *
 * <p>The path of a record: accepted records are appended to the journal ({@link UsageJournal}) in
 * group commits, one frame and one fsync for all the records of a {@code groupCommitInterval}, on
 * a worker thread; then they are <i>durable</i>. Durable records are written to the
 * {@link UsageSink} from memory in batches of up to {@code batchSize}, one write at a time, and
 * confirmed to the journal, which deletes a sealed file once the sink has all of it. While the sink
 * is down (a write fails or passes {@code writeTimeout}), and when durable records would fill more
 * than half the window (a slow sink), the meter lets go of durable records in memory
 * and replays their journal files later, oldest first; the sink is idempotent by request id, so a
 * record sent twice counts once. The window frees as records become durable and reach the sink or
 * are let go to the journal: it fills only when the journal cannot take more (the sink down long
 * enough to fill {@code maxJournalBytes}, or a failing disk) or cannot keep up. If the journal
 * refuses a commit, the records stay in memory and, with the sink up, are written to it directly.
 *
 * <p>What a crash can lose: a {@code kill -9} or power cut loses the records accepted in the last
 * group-commit window that were not yet fsynced (at most one window plus the fsync in progress),
 * unless {@code ackAfterFsync} is set, in which case {@code record}'s future completes only once
 * the record is durable and nothing answered is lost. Undeploying the meter ({@link #close()})
 * refuses new reservations, commits what is in memory, writes what it can to the sink and leaves
 * the rest in the journal for the next start; only a journal that fails then (and a sink that is
 * down) loses records, counted as {@code lostAtClose}.
 *
 * <p>{@code tryReserve} and {@code record} may be called from any thread and never block. All other
 * work runs on the meter's context, I/O on worker threads.
 *
 * <p>The parts, each in its own class: {@link UsageIntake} (the window, the queue of accepted
 * records, back-pressure), {@link GroupCommitter} (journal commits, records the journal refused),
 * {@link SinkPump} (durable records to the sink, replay of journal files) over {@link SinkWriter}
 * (one bounded write, whether the sink is up), {@link MeterLoop} (the clock that drives them),
 * {@link CloseSequence} (undeploying) and {@link MeterCounters} (the figures of {@link #stats()}).
 * This class wires them and holds the public API.
 */
public final class UsageMeter extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(UsageMeter.class);
    private static final Future<Void> DONE = Future.succeededFuture();
    /** What a refused caller is told to wait: about the time the window takes to drain once the sink answers. */
    private static final Duration RETRY_AFTER = Duration.ofSeconds(1);

    /**
     * A slot in the meter's window, taken before a call runs. Fill it with the call's record or
     * release it; either, once. Not thread-safe: one request path uses it.
     */
    public final class Reservation {

        private boolean used;

        private Reservation() {
        }

        /**
         * Meters the call. The future completes once the record is durable if the meter was set to
         * acknowledge after the fsync, and at once otherwise; it fails only if the meter had closed.
         */
        public Future<Void> record(UsageRecord record) {
            Objects.requireNonNull(record, "record");
            if (used) {
                throw new IllegalStateException("this reservation was already used");
            }
            used = true;
            Promise<Void> durable = options.ackAfterFsync() ? Promise.promise() : null;
            intake.accept(new UsageIntake.Accepted(record, durable, durable == null ? null : Vertx.currentContext()));
            if (intake.isClosed()) {
                closing.loseWhatIsLeft();
            }
            return durable == null ? DONE : durable.future();
        }

        /** Gives the slot back: the call did not reach the model and is not metered. */
        public void release() {
            if (!used) {
                used = true;
                intake.free(1);
            }
        }
    }

    private final UsageSink sink;
    private final UsageMeterOptions options;
    private final UsageJournal journal;
    private final MeterCounters counters = new MeterCounters();
    private final UsageIntake intake;
    private Future<Void> closeFuture; // guarded by this
    // Built in start(), on the meter's context.
    private MeterLoop loop;
    private CloseSequence closing;

    public UsageMeter(UsageSink sink, UsageMeterOptions options) {
        this.sink = sink;
        this.options = options;
        this.journal = new UsageJournal(options.journalDirectory(), options.maxJournalBytes(), options.maxJournalFileBytes());
        this.intake = new UsageIntake(options.windowRecords(), counters, journal);
    }

    /** Creates a meter and deploys it; the future fails if the journal directory cannot be opened. */
    public static Future<UsageMeter> deploy(Vertx vertx, UsageSink sink, UsageMeterOptions options) {
        UsageMeter meter = new UsageMeter(sink, options);
        return vertx.deployVerticle(meter).map(id -> meter);
    }

    @Override
    public Future<?> start() {
        SinkWriter writer = new SinkWriter(vertx, context, sink, options, counters, journal);
        SinkPump pump = new SinkPump(context, options, journal, intake, counters, writer);
        GroupCommitter committer = new GroupCommitter(context, options, journal, intake, counters, pump);
        loop = new MeterLoop(vertx, context, options, journal, intake, committer, pump, writer);
        closing = new CloseSequence(vertx, context, options, journal, intake, counters, loop, committer, pump);
        return context.executeBlocking(() -> {
            journal.open();
            return null;
        }).onSuccess(v -> {
            if (journal.pendingRecords() > 0) {
                LOG.info("usage journal {} holds {} records from an earlier run; replaying them",
                        options.journalDirectory(), journal.pendingRecords());
            }
            loop.start();
        });
    }

    /**
     * A slot for one call, or empty when the window is full (or the meter closed): then the call
     * must be refused without running. Never blocks.
     */
    public Optional<Reservation> tryReserve() {
        return intake.tryTake() ? Optional.of(new Reservation()) : Optional.empty();
    }

    /** The exception for a refused call, with the time to wait before trying again. */
    public MeteringBacklogException backlog() {
        return new MeteringBacklogException(intake.inWindow(), RETRY_AFTER);
    }

    /** Where the records go. */
    public UsageSink sink() {
        return sink;
    }

    public UsageMeterOptions options() {
        return options;
    }

    public UsageMeterStats stats() {
        return counters.snapshot(intake.inWindow(), journal, intake.backPressure());
    }

    /** Undeploys the meter, which commits and flushes it; completes when done or {@code closeTimeout} passed. */
    public synchronized Future<Void> close() {
        if (vertx == null) {
            return Future.succeededFuture();
        }
        if (closeFuture == null) {
            // Undeploying fails if Vert.x is already undeploying the meter (while it closes); then wait for that stop.
            CloseSequence sequence = closing;
            closeFuture = vertx.undeploy(deploymentID())
                    .recover(e -> sequence != null && sequence.entered() ? sequence.stopped() : Future.succeededFuture());
        }
        return closeFuture;
    }

    /** Undeploying runs the {@link CloseSequence}: the journal first, whatever the sink does; then the sink. */
    @Override
    public Future<?> stop() {
        return closing.run();
    }
}
