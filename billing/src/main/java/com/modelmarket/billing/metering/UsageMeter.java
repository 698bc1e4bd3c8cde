package com.modelmarket.billing.metering;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 */
public final class UsageMeter extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(UsageMeter.class);
    private static final Future<Void> DONE = Future.succeededFuture();
    /** What a refused caller is told to wait: about the time the window takes to drain once the sink answers. */
    private static final Duration RETRY_AFTER = Duration.ofSeconds(1);
    /** Records in one group commit at most (a frame of about 1.5 MiB); more waiting are committed right after. */
    private static final int MAX_COMMIT_RECORDS = 16_384;

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
            accepted.incrementAndGet();
            Promise<Void> durable = options.ackAfterFsync() ? Promise.promise() : null;
            incoming.add(new Accepted(record, durable, durable == null ? null : Vertx.currentContext()));
            incomingCount.incrementAndGet();
            if (closed) {
                loseWhatIsLeft();
            }
            return durable == null ? DONE : durable.future();
        }

        /** Gives the slot back: the call did not reach the model and is not metered. */
        public void release() {
            if (!used) {
                used = true;
                window.decrementAndGet();
            }
        }
    }

    private record Accepted(UsageRecord record, Promise<Void> durable, Context caller) {
    }

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

    private final UsageSink sink;
    private final UsageMeterOptions options;
    private final UsageJournal journal;

    // Touched by callers on any thread.
    private final ConcurrentLinkedQueue<Accepted> incoming = new ConcurrentLinkedQueue<>();
    private final AtomicInteger incomingCount = new AtomicInteger();
    private final AtomicInteger window = new AtomicInteger();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong durable = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong replayed = new AtomicLong();
    private final AtomicLong lostAtClose = new AtomicLong();
    private final AtomicLong sinkWrites = new AtomicLong();
    private final AtomicLong sinkWriteNanos = new AtomicLong();
    private final AtomicBoolean backPressure = new AtomicBoolean();
    private volatile long backPressureSinceNanos;
    private volatile long refusedBeforeBackPressure;
    private final Promise<Void> stopped = Promise.promise();
    private Future<Void> closeFuture; // guarded by this
    private volatile boolean accepting = true;
    private volatile boolean closed;
    private volatile boolean stopEntered;
    private volatile boolean sinkAvailable = true;

    // Meter context only.
    private final ArrayDeque<Accepted> retained = new ArrayDeque<>();
    private final ArrayDeque<Chunk> inMemory = new ArrayDeque<>();
    private int inMemoryRecords;
    private boolean committing;
    private boolean sinkBusy;
    private boolean stopping;
    private boolean journalRefusing;
    private long lastCommitNanos;
    private long sinkDownSinceNanos = -1;
    private long retryAtNanos;
    private long refusedAtLastTick;
    private long timerId = -1;
    private Promise<Void> quiet;

    public UsageMeter(UsageSink sink, UsageMeterOptions options) {
        this.sink = sink;
        this.options = options;
        this.journal = new UsageJournal(options.journalDirectory(), options.maxJournalBytes(), options.maxJournalFileBytes());
    }

    /** Creates a meter and deploys it; the future fails if the journal directory cannot be opened. */
    public static Future<UsageMeter> deploy(Vertx vertx, UsageSink sink, UsageMeterOptions options) {
        UsageMeter meter = new UsageMeter(sink, options);
        return vertx.deployVerticle(meter).map(id -> meter);
    }

    @Override
    public Future<?> start() {
        return context.executeBlocking(() -> {
            journal.open();
            return null;
        }).onSuccess(v -> {
            if (journal.pendingRecords() > 0) {
                LOG.info("usage journal {} holds {} records from an earlier run; replaying them",
                        options.journalDirectory(), journal.pendingRecords());
            }
            timerId = vertx.setPeriodic(options.groupCommitInterval().toMillis(), id -> tick());
        });
    }

    /**
     * A slot for one call, or empty when the window is full (or the meter closed): then the call
     * must be refused without running. Never blocks.
     */
    public Optional<Reservation> tryReserve() {
        if (!accepting) {
            return Optional.empty(); // closing: the platform turns requests away before this
        }
        if (window.incrementAndGet() <= options.windowRecords()) {
            return Optional.of(new Reservation());
        }
        window.decrementAndGet();
        long total = refused.incrementAndGet();
        if (backPressure.compareAndSet(false, true)) {
            backPressureSinceNanos = System.nanoTime();
            refusedBeforeBackPressure = total - 1;
            LOG.warn("usage metering back-pressure: {} calls' usage is not yet durable (window of {}; sink {}, "
                            + "journal {} bytes); refusing calls with 503 until it drains",
                    window.get(), options.windowRecords(), sinkAvailable ? "up" : "down", journal.pendingBytes());
        }
        return Optional.empty();
    }

    /** The exception for a refused call, with the time to wait before trying again. */
    public MeteringBacklogException backlog() {
        return new MeteringBacklogException(window.get(), RETRY_AFTER);
    }

    /** Where the records go. */
    public UsageSink sink() {
        return sink;
    }

    public UsageMeterOptions options() {
        return options;
    }

    public UsageMeterStats stats() {
        return new UsageMeterStats(accepted.get(), refused.get(), window.get(), durable.get(), journal.pendingRecords(),
                journal.pendingBytes(), written.get(), replayed.get(), lostAtClose.get(), sinkWrites.get(),
                sinkWriteNanos.get(), sinkAvailable, backPressure.get());
    }

    /** Undeploys the meter, which commits and flushes it; completes when done or {@code closeTimeout} passed. */
    public synchronized Future<Void> close() {
        if (vertx == null) {
            return Future.succeededFuture();
        }
        if (closeFuture == null) {
            // Undeploying fails if Vert.x is already undeploying the meter (while it closes); then wait for that stop.
            closeFuture = vertx.undeploy(deploymentID()).recover(e -> stopEntered ? stopped.future() : Future.succeededFuture());
        }
        return closeFuture;
    }

    @Override
    public Future<?> stop() {
        stopEntered = true;
        accepting = false;
        stopping = true;
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
        long deadline = vertx.setTimer(options.closeTimeout().toMillis(), id -> {
            LOG.error("usage meter did not finish closing within {}", options.closeTimeout());
            finish();
        });
        // the journal first, whatever the sink is doing: a hanging database must not cost the records
        // still in memory; then the sink, for as long as the close timeout leaves
        whenCommitted()
                .compose(v -> finalCommit())
                .compose(v -> whenQuiet())
                .compose(v -> finalWrites())
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

    // ---- group commit ---------------------------------------------------------------------------

    private void tick() {
        if (stopping) {
            return;
        }
        if (!committing) {
            commitOnce().onComplete(ar -> afterCommit());
        }
        pumpSink();
        checkBackPressureEnded();
    }

    /** Right after a commit: commit again at once if a full batch waits or the window has passed; feed the sink. */
    private void afterCommit() {
        if (stopping) {
            return;
        }
        boolean due = System.nanoTime() - lastCommitNanos >= options.groupCommitInterval().toNanos();
        if (!journalRefusing && !committing && (incomingCount.get() >= MAX_COMMIT_RECORDS || (due && incomingCount.get() > 0))) {
            commitOnce().onComplete(ar -> afterCommit());
        }
        pumpSink();
    }

    /** One group commit of what waits (refused earlier first); true unless the journal refused it. */
    private Future<Boolean> commitOnce() {
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
            checkQuiet();
            return Future.succeededFuture(ar.succeeded());
        });
    }

    private void committed(long sequence, List<Accepted> batch, List<UsageRecord> records) {
        durable.addAndGet(records.size());
        batch.forEach(UsageMeter::completeDurable);
        if (journalRefusing) {
            journalRefusing = false;
            LOG.info("usage journal {} accepts records again", options.journalDirectory());
        }
        if (!sinkAvailable) {
            window.addAndGet(-records.size());
            markForReplay(List.of(sequence));
            return;
        }
        inMemory.add(new Chunk(sequence, records));
        inMemoryRecords += records.size();
        if (inMemoryRecords > options.windowRecords() / 2) {
            letGoOfDurable();
        }
    }

    private List<Accepted> takePending(int max) {
        List<Accepted> batch = new ArrayList<>(Math.min(max, retained.size() + incomingCount.get()));
        while (batch.size() < max && !retained.isEmpty()) {
            batch.add(retained.poll());
        }
        while (batch.size() < max) {
            Accepted next = incoming.poll();
            if (next == null) {
                break;
            }
            incomingCount.decrementAndGet();
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

    private static void completeDurable(Accepted a) {
        if (a.durable() != null) {
            if (a.caller() != null) {
                a.caller().runOnContext(v -> a.durable().tryComplete());
            } else {
                a.durable().tryComplete();
            }
        }
    }

    // ---- the sink -------------------------------------------------------------------------------

    /** Starts the next sink write unless one runs: journal files to replay first, then memory. */
    private void pumpSink() {
        if (sinkBusy || stopping) {
            return;
        }
        if (!sinkAvailable) {
            if (System.nanoTime() - retryAtNanos < 0) {
                return;
            }
            sinkAvailable = true; // a retry is due
        }
        Future<Boolean> work;
        if (journal.replayFiles() > 0) {
            work = replayOldest();
        } else if (inMemoryRecords > 0) {
            work = writeDurable();
        } else if (journalRefusing && !retained.isEmpty()) {
            work = writeRetained();
        } else {
            return;
        }
        sinkBusy = true;
        work.onComplete(ar -> {
            sinkBusy = false;
            checkQuiet();
            if (ar.succeeded() && ar.result()) {
                context.runOnContext(v -> pumpSink());
            }
        });
    }

    /** Writes one batch of durable records from memory; true if it succeeded. */
    private Future<Boolean> writeDurable() {
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
        return writeToSink(batch).transform(ar -> {
            window.addAndGet(-batch.size());
            if (ar.succeeded()) {
                sinkSucceeded();
                written.addAndGet(batch.size());
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

    /** Writes records the journal refused straight to the sink, which makes them durable; true if it succeeded. */
    private Future<Boolean> writeRetained() {
        List<Accepted> batch = new ArrayList<>();
        while (batch.size() < options.batchSize() && !retained.isEmpty()) {
            batch.add(retained.poll());
        }
        return writeToSink(recordsOf(batch)).transform(ar -> {
            if (ar.succeeded()) {
                sinkSucceeded();
                written.addAndGet(batch.size());
                durable.addAndGet(batch.size());
                window.addAndGet(-batch.size());
                batch.forEach(UsageMeter::completeDurable);
                return Future.succeededFuture(true);
            }
            sinkFailed(ar.cause());
            keep(batch);
            return Future.succeededFuture(false);
        });
    }

    /** Durable records in memory are dropped from memory only: their journal files will be replayed. */
    private void letGoOfDurable() {
        List<Long> files = new ArrayList<>();
        for (Chunk chunk : inMemory) {
            files.add(chunk.sequence);
        }
        window.addAndGet(-inMemoryRecords);
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

    /** Replays the oldest journal file to replay; true if the sink took it. */
    private Future<Boolean> replayOldest() {
        return context.<Optional<UsageJournal.Batch>>executeBlocking(journal::oldestToReplay).transform(read -> {
            if (read.failed()) {
                LOG.error("cannot read usage journal {}; replay waits", options.journalDirectory(), read.cause());
                return Future.succeededFuture(false);
            }
            if (read.result().isEmpty()) {
                return Future.succeededFuture(false);
            }
            UsageJournal.Batch batch = read.result().get();
            return writeAll(batch.records(), 0).transform(sent -> {
                if (sent.failed()) {
                    sinkFailed(sent.cause());
                    return Future.succeededFuture(false);
                }
                sinkSucceeded();
                written.addAndGet(batch.records().size());
                replayed.addAndGet(batch.records().size());
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

    private Future<Void> writeAll(List<UsageRecord> records, int from) {
        if (from >= records.size()) {
            return DONE;
        }
        int to = Math.min(records.size(), from + options.batchSize());
        return writeToSink(records.subList(from, to)).compose(v -> writeAll(records, to));
    }

    /** The sink's answer on this meter's context, or a failure after {@code writeTimeout}. */
    private Future<Void> writeToSink(List<UsageRecord> batch) {
        long started = System.nanoTime();
        Future<Void> write;
        try {
            write = sink.write(Collections.unmodifiableList(batch));
        } catch (RuntimeException e) {
            write = Future.failedFuture(e);
        }
        if (write == null) {
            write = Future.failedFuture(new IllegalStateException("usage sink returned no future"));
        }
        Promise<Void> answer = Promise.promise();
        long timer = vertx.setTimer(options.writeTimeout().toMillis(), id -> answer.tryFail(
                new TimeoutException("usage sink did not answer within " + options.writeTimeout())));
        write.onComplete(ar -> context.runOnContext(v -> {
            vertx.cancelTimer(timer);
            if (ar.succeeded()) {
                answer.tryComplete();
            } else {
                answer.tryFail(ar.cause());
            }
        }));
        return answer.future().onComplete(ar -> {
            sinkWrites.incrementAndGet();
            sinkWriteNanos.addAndGet(System.nanoTime() - started);
        });
    }

    private void sinkFailed(Throwable cause) {
        if (sinkDownSinceNanos < 0) {
            sinkDownSinceNanos = System.nanoTime();
            LOG.warn("usage sink failed; usage stays in the journal under {}, retrying every {}: {}",
                    options.journalDirectory(), options.retryInterval(), cause.toString());
        } else {
            LOG.debug("usage sink still failing: {}", cause.toString());
        }
        sinkAvailable = false;
        retryAtNanos = System.nanoTime() + options.retryInterval().toNanos();
        letGoOfDurable(); // the journal has them; keeping them would only fill the window
    }

    private void sinkSucceeded() {
        if (sinkDownSinceNanos >= 0) {
            LOG.info("usage sink is back after {} ms; {} records wait in the journal",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinkDownSinceNanos), journal.pendingRecords());
            sinkDownSinceNanos = -1;
        }
    }

    private void checkBackPressureEnded() {
        long now = refused.get();
        if (backPressure.get() && now == refusedAtLastTick && window.get() < options.windowRecords()) {
            backPressure.set(false);
            LOG.info("usage metering back-pressure ended after {} ms; {} calls were refused",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - backPressureSinceNanos), now - refusedBeforeBackPressure);
        }
        refusedAtLastTick = now;
    }

    // ---- closing --------------------------------------------------------------------------------

    private Promise<Void> commitDone;

    private Future<Void> whenQuiet() {
        if (!committing && !sinkBusy) {
            return DONE;
        }
        quiet = Promise.promise();
        return quiet.future();
    }

    /** Completes once no group commit is running (the sink may still be busy). */
    private Future<Void> whenCommitted() {
        if (!committing) {
            return DONE;
        }
        commitDone = Promise.promise();
        return commitDone.future();
    }

    private void checkQuiet() {
        if (commitDone != null && !committing) {
            Promise<Void> waiting = commitDone;
            commitDone = null;
            waiting.complete();
        }
        if (quiet != null && !committing && !sinkBusy) {
            Promise<Void> waiting = quiet;
            quiet = null;
            waiting.complete();
        }
    }

    /** Commits everything accepted; what the journal refuses goes to the sink directly if it is up. */
    private Future<Void> finalCommit() {
        if (retained.isEmpty() && incomingCount.get() == 0) {
            return DONE;
        }
        return commitOnce().compose(ok -> ok ? finalCommit() : finalDirect());
    }

    private Future<Void> finalDirect() {
        keep(takePending(Integer.MAX_VALUE));
        if (retained.isEmpty() || !sinkAvailable) {
            return DONE;
        }
        return writeRetained().compose(ok -> ok ? finalDirect() : DONE);
    }

    /** Writes durable records in memory to the sink while it answers; the journal keeps whatever is left. */
    private Future<Void> finalWrites() {
        if (inMemoryRecords == 0 || !sinkAvailable) {
            return DONE;
        }
        return writeDurable().compose(ok -> ok ? finalWrites() : DONE);
    }

    private void finish() {
        closed = true;
        loseWhatIsLeft();
        stopped.tryComplete();
    }

    /** After close: whatever is neither journaled nor written is lost, counted and logged. */
    private synchronized void loseWhatIsLeft() {
        List<Accepted> lost = new ArrayList<>(retained);
        retained.clear();
        Accepted next;
        while ((next = incoming.poll()) != null) {
            incomingCount.decrementAndGet();
            lost.add(next);
        }
        if (!lost.isEmpty()) {
            lostAtClose.addAndGet(lost.size());
            window.addAndGet(-lost.size());
            for (Accepted a : lost) {
                if (a.durable() != null) {
                    a.durable().tryFail(new IllegalStateException("the usage meter is closed"));
                }
            }
            LOG.error("usage meter closed with {} records neither journaled nor written; they are lost", lost.size());
        }
    }
}
