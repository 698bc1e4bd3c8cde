package com.modelmarket.billing.metering;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
 * The usage intake: takes one {@link UsageRecord} per request and delivers them to a
 * {@link UsageSink} in batches, falling back to an on-disk journal while the sink is down.
 *
 * <p>{@link #record} may be called from any thread; it never blocks and never throws. Records are
 * buffered in memory and flushed at least every {@code flushInterval} and as soon as
 * {@code batchSize} are waiting. A batch the sink refuses (or does not answer within
 * {@code writeTimeout}) is appended to the journal ({@link UsageJournal}, fsync per batch, on a
 * worker thread); while the sink is down, batches go straight to the journal, and every
 * {@code retryInterval} the sink is tried again, journal first, one file per flush cycle. A
 * journal file is deleted only after the sink confirmed all of it; the sink is idempotent by
 * request id, so a record sent twice is harmless. Memory ({@code maxBuffered}) and the journal
 * ({@code maxJournalBytes}) are bounded: when both are full, new records are dropped, counted in
 * {@link #stats()} and logged at most every ten seconds.
 *
 * <p>A verticle: all flushing runs on its own context, one cycle at a time. Undeploying it (or
 * {@link #close()}, or closing Vert.x) flushes what is in memory to the sink, or to the journal if
 * the sink is down, within {@code closeTimeout}; records still in memory at that deadline are
 * counted as dropped. A crash loses at most the records in memory (about one flush interval).
 */
public final class UsageMeter extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(UsageMeter.class);
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final UsageSink sink;
    private final UsageMeterOptions options;
    private final UsageJournal journal;

    // Touched by callers of record() on any thread.
    private final ConcurrentLinkedQueue<UsageRecord> incoming = new ConcurrentLinkedQueue<>();
    private final AtomicInteger incomingCount = new AtomicInteger();
    private final AtomicInteger inMemory = new AtomicInteger();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private final AtomicLong recorded = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong replayed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong droppedSinceLog = new AtomicLong();
    private final AtomicLong lastDropLogNanos = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);
    private final Promise<Void> stopped = Promise.promise();
    private Future<Void> closeFuture; // guarded by this
    private volatile boolean started;
    private volatile boolean accepting = true;
    private volatile boolean stopEntered;
    private volatile boolean sinkAvailable = true;

    // Meter context only.
    private final ArrayDeque<UsageRecord> retained = new ArrayDeque<>();
    private boolean busy;
    private boolean again;
    private boolean againWithPartial;
    private boolean stopping;
    private boolean abandoned;
    private boolean journalBlocked;
    private boolean journalFailureLogged;
    private long sinkDownSinceNanos = -1;
    private long retryAtNanos;
    private long timerId = -1;
    private Promise<Void> idle;

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
            timerId = vertx.setPeriodic(options.flushInterval().toMillis(), id -> pump(true));
            started = true;
            if (incomingCount.get() >= options.batchSize()) {
                requestFlush();
            }
        });
    }

    /** Takes one record. Never blocks, never throws; a record that cannot be kept is counted as dropped. */
    public void record(UsageRecord record) {
        try {
            recorded.incrementAndGet();
            if (record == null) {
                drop(1, "null record");
                return;
            }
            if (!accepting) {
                drop(1, "the usage meter is closed");
                return;
            }
            if (inMemory.incrementAndGet() > options.maxBuffered()) {
                inMemory.decrementAndGet();
                drop(1, "the usage buffer is full (sink down and journal full, or the sink too slow)");
                return;
            }
            incoming.add(record);
            if (incomingCount.incrementAndGet() >= options.batchSize()) {
                requestFlush();
            }
        } catch (RuntimeException e) {
            LOG.error("usage record lost", e);
        }
    }

    /** Where the records go. */
    public UsageSink sink() {
        return sink;
    }

    public UsageMeterStats stats() {
        return new UsageMeterStats(recorded.get(), inMemory.get(), journal.pendingRecords(), written.get(),
                replayed.get(), dropped.get(), sinkAvailable);
    }

    /** Undeploys the meter, which flushes it; completes when the flush is done or {@code closeTimeout} passed. */
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
            LOG.error("usage meter did not finish flushing within {}", options.closeTimeout());
            abandon();
            stopped.tryComplete();
        });
        whenIdle()
                .compose(v -> finalDrain())
                .eventually(() -> context.executeBlocking(() -> {
                    journal.close();
                    return null;
                }))
                .onComplete(ar -> {
                    vertx.cancelTimer(deadline);
                    if (ar.failed()) {
                        LOG.error("usage meter failed while closing", ar.cause());
                    }
                    abandon();
                    stopped.tryComplete();
                });
        return stopped.future();
    }

    private void requestFlush() {
        if (started && flushScheduled.compareAndSet(false, true)) {
            context.runOnContext(v -> {
                flushScheduled.set(false);
                pump(false);
            });
        }
    }

    /** Runs one flush cycle unless one is running; {@code includePartial} also flushes a batch that is not full. */
    private void pump(boolean includePartial) {
        if (stopping) {
            return;
        }
        if (busy) {
            again = true;
            againWithPartial |= includePartial;
            return;
        }
        busy = true;
        again = false;
        againWithPartial = false;
        cycle(includePartial).onComplete(ar -> {
            busy = false;
            if (ar.failed()) {
                LOG.error("usage flush cycle failed", ar.cause());
            }
            if (idle != null) {
                Promise<Void> waiting = idle;
                idle = null;
                waiting.complete();
                return;
            }
            boolean journalWaiting = ar.succeeded() && ar.result();
            boolean moreNow = again || journalWaiting || incomingCount.get() >= options.batchSize();
            if (moreNow && !journalBlocked) {
                boolean partial = againWithPartial;
                context.runOnContext(v -> pump(partial));
            }
        });
    }

    /** Replays one journal file if the sink is up, then drains memory; true if more journal is waiting. */
    private Future<Boolean> cycle(boolean includePartial) {
        journalBlocked = false;
        if (!sinkAvailable && System.nanoTime() - retryAtNanos >= 0) {
            sinkAvailable = true;
        }
        Future<Boolean> replay = sinkAvailable && journal.fileCount() > 0 ? replayOldest() : Future.succeededFuture(false);
        return replay.compose(journalWaiting -> drain(includePartial, inMemory.get()).map(journalWaiting));
    }

    private Future<Boolean> replayOldest() {
        return context.<Optional<UsageJournal.Batch>>executeBlocking(journal::oldest).transform(read -> {
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
                return context.executeBlocking(() -> {
                    journal.remove(batch);
                    return null;
                }).map(v -> {
                    written.addAndGet(batch.records().size());
                    replayed.addAndGet(batch.records().size());
                    if (batch.skipped() > 0) {
                        drop(batch.skipped(), "unreadable journal lines");
                    }
                    return journal.fileCount() > 0;
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
            return Future.succeededFuture();
        }
        int to = Math.min(records.size(), from + options.batchSize());
        return writeToSink(records.subList(from, to)).compose(v -> writeAll(records, to));
    }

    /** Sends batches until memory is empty, the budget is spent, or the journal refused a batch. */
    private Future<Void> drain(boolean includePartial, int budget) {
        int available = retained.size() + incomingCount.get();
        if (budget <= 0 || journalBlocked || available == 0 || (!includePartial && available < options.batchSize())) {
            return Future.succeededFuture();
        }
        List<UsageRecord> batch = takeBatch();
        if (batch.isEmpty()) {
            return Future.succeededFuture();
        }
        return deliver(batch).compose(v -> drain(includePartial, budget - batch.size()));
    }

    private List<UsageRecord> takeBatch() {
        List<UsageRecord> batch = new ArrayList<>(Math.min(options.batchSize(), retained.size() + incomingCount.get()));
        while (batch.size() < options.batchSize() && !retained.isEmpty()) {
            batch.add(retained.poll());
        }
        while (batch.size() < options.batchSize()) {
            UsageRecord record = incoming.poll();
            if (record == null) {
                break;
            }
            incomingCount.decrementAndGet();
            batch.add(record);
        }
        return batch;
    }

    private Future<Void> deliver(List<UsageRecord> batch) {
        if (!sinkAvailable) {
            return toJournal(batch);
        }
        return writeToSink(batch).transform(ar -> {
            if (ar.succeeded()) {
                sinkSucceeded();
                written.addAndGet(batch.size());
                inMemory.addAndGet(-batch.size());
                return Future.succeededFuture();
            }
            sinkFailed(ar.cause());
            return toJournal(batch);
        });
    }

    private Future<Void> toJournal(List<UsageRecord> batch) {
        return context.<Void>executeBlocking(() -> {
            journal.append(batch);
            return null;
        }).transform(ar -> {
            if (ar.succeeded()) {
                inMemory.addAndGet(-batch.size());
                if (journalFailureLogged) {
                    journalFailureLogged = false;
                    LOG.info("usage journal {} accepts records again", options.journalDirectory());
                }
            } else if (abandoned) {
                inMemory.addAndGet(-batch.size());
                drop(batch.size(), "closing with the sink down and the journal failing: " + ar.cause());
            } else {
                // Keep the batch in memory and stop draining until the next cycle; memory stays bounded by maxBuffered.
                retained.addAll(batch);
                journalBlocked = true;
                if (!journalFailureLogged) {
                    journalFailureLogged = true;
                    LOG.warn("usage journal refused a batch, keeping {} records in memory: {}", retained.size(), ar.cause().toString());
                }
            }
            return Future.succeededFuture();
        });
    }

    /** The sink's answer on this meter's context, or a failure after {@code writeTimeout}. */
    private Future<Void> writeToSink(List<UsageRecord> batch) {
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
        return answer.future();
    }

    private void sinkFailed(Throwable cause) {
        if (sinkDownSinceNanos < 0) {
            sinkDownSinceNanos = System.nanoTime();
            LOG.warn("usage sink failed, journaling usage under {} and retrying every {}: {}",
                    options.journalDirectory(), options.retryInterval(), cause.toString());
        } else {
            LOG.debug("usage sink still failing: {}", cause.toString());
        }
        sinkAvailable = false;
        retryAtNanos = System.nanoTime() + options.retryInterval().toNanos();
    }

    private void sinkSucceeded() {
        if (sinkDownSinceNanos >= 0) {
            LOG.info("usage sink is back after {} ms; {} records wait in the journal",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinkDownSinceNanos), journal.pendingRecords());
            sinkDownSinceNanos = -1;
        }
    }

    private Future<Void> whenIdle() {
        if (!busy) {
            return Future.succeededFuture();
        }
        idle = Promise.promise();
        return idle.future();
    }

    /** Everything in memory to the sink, or to the journal; the journal is left for the next start to replay. */
    private Future<Void> finalDrain() {
        journalBlocked = false;
        if (!sinkAvailable && System.nanoTime() - retryAtNanos >= 0) {
            sinkAvailable = true;
        }
        return drain(true, Integer.MAX_VALUE);
    }

    /** Counts whatever is still in memory as dropped; later failures of batches in flight are dropped too. */
    private void abandon() {
        abandoned = true;
        int lost = retained.size();
        retained.clear();
        while (incoming.poll() != null) {
            incomingCount.decrementAndGet();
            lost++;
        }
        if (lost > 0) {
            inMemory.addAndGet(-lost);
            dropped.addAndGet(lost);
            LOG.error("usage meter closed with {} records neither written nor journaled; they are lost", lost);
        }
    }

    private void drop(int count, String reason) {
        dropped.addAndGet(count);
        droppedSinceLog.addAndGet(count);
        long now = System.nanoTime();
        long last = lastDropLogNanos.get();
        if (now - last >= LOG_INTERVAL_NANOS && lastDropLogNanos.compareAndSet(last, now)) {
            LOG.warn("dropped {} usage records: {} (dropped in total: {})", droppedSinceLog.getAndSet(0), reason, dropped.get());
        }
    }
}
