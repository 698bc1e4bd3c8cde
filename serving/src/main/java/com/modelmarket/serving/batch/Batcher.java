package com.modelmarket.serving.batch;

import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.ServingConfig;
import com.modelmarket.serving.ServingException;
import com.modelmarket.serving.metrics.ModelMetrics;
import com.modelmarket.serving.model.Tensor;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue and scheduler of one model version: merges waiting requests into batches and hands
 * each batch to an idle worker.
 *
 * <p>Policy, unlike a batcher that always waits {@code maxBatchDelay} to fill a batch:
 *
 * <ul>
 *   <li>Work-conserving when idle: a request that finds a free worker and an empty queue runs at
 *       once, alone.
 *   <li>Requests that arrive while every worker is busy queue up; when a worker frees, it takes the
 *       oldest request plus every later one with the same input signature, up to {@code
 *       maxBatchSize} items (items, not requests, count). If that batch is not full it may wait for
 *       more, but only until its oldest request has waited {@code maxBatchDelay}.
 *   <li>{@code maxQueue} bounds the items waiting; beyond it a request fails at once with {@link
 *       OverloadedException} and a retry-after hint from the recent batch times.
 *   <li>A request whose deadline passes while queued is removed and never runs; one already
 *       running is answered at its deadline and its result dropped.
 *   <li>When work waits and no worker is free, it asks its {@link Scaler} for another worker (up
 *       to {@code maxWorkers}); with no worker at all that is a cold start.
 *   <li>A worker whose batch runs {@code stuckGrace} past the latest deadline of its requests (all
 *       answered by then) is declared stuck: taken out of service, its late result discarded, and
 *       stopped by the scaler once the batch ends. While the scaler lends a spare thread (at most
 *       {@code maxWorkers} of them per version) the worker is replaced at once; otherwise it keeps
 *       its worker slot until it returns, and with every slot so held the version refuses requests
 *       as overloaded. A worker that fails with an {@link Error} is replaced too.
 *   <li>Batches hold at most the batch cap: {@code maxBatchSize}, or less once calibration found
 *       that bigger batches are no faster per item ({@link #useBatchCap}).
 * </ul>
 *
 * <p>Parts: the {@link RequestQueue}, the {@link DeadlineWatch} (one timer for every deadline) and
 * the {@link StuckWorkerPolicy}. State is guarded by this object's lock. Whatever a locked section decides to do that reaches
 * other threads (starting a batch or a worker, answering callers on their Vert.x contexts, one
 * task per context) is collected in {@link Effects} and done after the lock is released, so
 * workers and the event loop never wait on each other's wake-ups.
 */
public final class Batcher {

    /** Starts workers on demand, and stops the ones taken out of service. */
    public interface Scaler {

        /** Must be answered with {@link #workerStarted} or {@link #workerFailed}. */
        void startWorker();

        /** Stops a worker taken out of service (stuck or broken) once {@code after} completes. */
        default void stopWorker(BatchWorker worker, Future<Void> after) {}

        /**
         * Lends a spare thread to replace a stuck worker, if one is left. Called under the batcher's
         * lock: must neither block nor call back into the batcher.
         */
        default boolean lendSpare(BatchWorker stuck) {
            return true;
        }

        /** A stuck worker that was lent a spare thread has returned: the thread is free again. */
        default void returnSpare() {}
    }

    private static final Logger LOG = LoggerFactory.getLogger(Batcher.class);
    private static final AtomicLong BATCH_IDS = new AtomicLong();
    private static final long NO_TIMER = -1;

    private final Vertx vertx;
    private final ModelKey key;
    private final PoolConfig config;
    private final long maxBatchDelayNanos;
    private final Scaler scaler;
    private final ModelMetrics metrics;
    private final Responder responder;
    private final StuckWorkerPolicy stuck;
    private final DeadlineWatch deadlines;

    private final RequestQueue queue = new RequestQueue();
    private final ArrayDeque<IdleWorker> idle = new ArrayDeque<>();
    /** Requests now computing, so that {@link #abort} can answer them. */
    private final Set<PendingRequest> running = new HashSet<>();
    private int batchCap;
    private int busy;
    private int starting;
    private boolean modelLoaded;
    private boolean closed;
    private long lingerTimer = NO_TIMER;
    private long lastUsedNanos = System.nanoTime();
    private double avgBatchNanos = 1_000_000;
    private final Promise<Void> drained = Promise.promise();

    private record IdleWorker(BatchWorker worker, long sinceNanos) {}

    public Batcher(
            Vertx vertx, ModelKey key, PoolConfig config, Scaler scaler, ModelMetrics metrics,
            Consumer<RequestFacts> factsListener) {
        this(vertx, key, config, scaler, metrics, factsListener, ServingConfig.DEFAULT_STUCK_GRACE);
    }

    /**
     * @param stuckGrace how long a batch may run past the latest deadline of its requests before its
     *     worker is declared stuck
     */
    public Batcher(
            Vertx vertx, ModelKey key, PoolConfig config, Scaler scaler, ModelMetrics metrics,
            Consumer<RequestFacts> factsListener, Duration stuckGrace) {
        this.vertx = vertx;
        this.key = key;
        this.config = config;
        this.maxBatchDelayNanos = config.maxBatchDelay().toNanos();
        this.scaler = scaler;
        this.metrics = metrics;
        this.responder = new Responder(key, metrics, factsListener);
        this.stuck = new StuckWorkerPolicy(key, config.maxWorkers(), stuckGrace, scaler, metrics);
        this.deadlines = new DeadlineWatch(vertx, this::onDeadlineTimer);
        this.batchCap = config.maxBatchSize();
    }

    /**
     * Queues a request whose inputs are already checked against the manifest and put in its input
     * order.
     *
     * @param deadlineNanos {@link System#nanoTime()} after which it fails; {@code Long.MAX_VALUE}
     *     for none
     * @param context where to answer
     */
    public Future<InferenceResult> submit(
            List<Tensor> inputs, List<String> wantedOutputs, int items, long deadlineNanos,
            Context context) {
        long now = System.nanoTime();
        PendingRequest r =
                new PendingRequest(inputs, wantedOutputs, items, now, deadlineNanos, context);
        Effects fx = new Effects();
        synchronized (this) {
            lastUsedNanos = now;
            if (closed) {
                refuse(fx, r, new OverloadedException(key + " is shutting down", Duration.ofSeconds(1)));
            } else if (stuck.allSlotsHeld()) {
                refuse(fx, r, stuck.allStuck());
            } else if (queue.items() + items > config.maxQueue()) {
                refuse(fx, r, new OverloadedException(
                        key + " has " + queue.items() + " items queued (limit " + config.maxQueue() + ")",
                        retryAfterLocked()));
            } else if (deadlineNanos <= now) {
                expire(fx, r, now);
            } else {
                r.behindBusy = idle.isEmpty() && busy > 0;
                r.cold = !modelLoaded;
                queue.add(r);
                deadlines.watch(deadlineNanos);
                dispatchLocked(fx);
            }
        }
        fx.run();
        return r.promise.future();
    }

    /**
     * Announces {@code count} workers the owner starts on its own (the minimum workers); each must
     * be answered with {@link #workerStarted} or {@link #workerFailed}. While any start is pending
     * the version cannot be retired.
     */
    public synchronized void expectWorkers(int count) {
        starting += count;
    }

    /** A worker asked for through the {@link Scaler} (or announced) is ready. */
    public void workerStarted(BatchWorker worker) {
        Effects fx = new Effects();
        synchronized (this) {
            starting--;
            idle.push(new IdleWorker(worker, System.nanoTime()));
            dispatchLocked(fx);
        }
        fx.run();
    }

    /**
     * A worker could not be started. With no worker left at all (a failed cold start), waiting
     * requests fail with {@link InferenceFailedException}.
     */
    public void workerFailed(Throwable cause) {
        Effects fx = new Effects();
        synchronized (this) {
            starting--;
            if (busy + idle.size() + starting == 0 && !queue.isEmpty()) {
                LOG.warn("{}: no worker could start, failing {} queued request(s): {}", key,
                        queue.size(), cause.toString());
                failQueuedLocked(fx, cause instanceof ServingException se
                        ? se
                        : new InferenceFailedException(key + " could not be started: " + cause.getMessage(),
                                cause));
            }
            checkDrainedLocked(fx);
        }
        fx.run();
    }

    /**
     * Caps the items of one batch below {@code maxBatchSize} (calibration found bigger batches no
     * faster per item); clamped to 1..{@code maxBatchSize}.
     */
    public void useBatchCap(int cap) {
        Effects fx = new Effects();
        synchronized (this) {
            batchCap = Math.max(1, Math.min(config.maxBatchSize(), cap));
            dispatchLocked(fx);
        }
        fx.run();
    }

    public synchronized int batchCap() {
        return batchCap;
    }

    /** Workers declared stuck whose batch has not returned yet. */
    public synchronized int stuckWorkers() {
        return stuck.stuck();
    }

    /** Records that the model is in memory: requests that waited for it were cold starts. */
    public synchronized void modelLoaded() {
        modelLoaded = true;
        queue.modelLoaded(System.nanoTime());
    }

    /**
     * Takes back idle workers above {@code keep} that have been idle for {@code idleTimeout},
     * oldest first; the caller stops them.
     */
    public synchronized List<BatchWorker> retireIdle(Duration idleTimeout, int keep) {
        List<BatchWorker> retired = new ArrayList<>();
        long now = System.nanoTime();
        while (!idle.isEmpty()
                && busy + idle.size() + starting > keep
                && now - idle.peekLast().sinceNanos() >= idleTimeout.toNanos()) {
            retired.add(idle.pollLast().worker());
        }
        return retired;
    }

    /**
     * Takes back every worker if nothing is queued, running or starting, and marks the model
     * unloaded, so the next request is a cold start.
     *
     * @return the workers to stop, or null if the version is busy
     */
    public synchronized List<BatchWorker> retireAll() {
        if (!isIdle()) {
            return null;
        }
        modelLoaded = false;
        return takeIdleLocked();
    }

    /**
     * The model's process is gone (its host died): idle workers are taken out of service and the
     * model counts as unloaded, so that the next request, or work still queued, loads it again.
     * Running batches fail on their own; their workers are replaced then.
     *
     * @return the idle workers, for the caller to stop
     */
    public List<BatchWorker> modelLost() {
        Effects fx = new Effects();
        List<BatchWorker> gone;
        synchronized (this) {
            gone = takeIdleLocked();
            modelLoaded = false;
            dispatchLocked(fx);
        }
        fx.run();
        return gone;
    }

    /**
     * Refuses new requests and stops lingering; the future completes once queued and running work is
     * done. Work that has no worker to run on (a cold start not begun) fails at once.
     */
    public Future<Void> close() {
        Effects fx = new Effects();
        synchronized (this) {
            closed = true;
            cancelLingerLocked();
            if (busy + idle.size() + starting == 0) {
                failQueuedLocked(fx, new OverloadedException(key + " is shutting down", Duration.ofSeconds(1)));
            }
            dispatchLocked(fx);
        }
        fx.run();
        return drained.future();
    }

    /** After a shutdown timeout: fails everything still queued or running with {@code error}. */
    public void abort(ServingException error) {
        Effects fx = new Effects();
        synchronized (this) {
            closed = true;
            cancelLingerLocked();
            failQueuedLocked(fx, error);
            // running batches keep their worker until they end; their callers are answered now
            answerRunningLocked(fx, Long.MAX_VALUE, error);
            fx.act(drained::tryComplete);
        }
        fx.run();
    }

    public synchronized int queuedItems() {
        return queue.items();
    }

    public synchronized int workers() {
        return busy + idle.size();
    }

    public synchronized int busyWorkers() {
        return busy;
    }

    public synchronized boolean isIdle() {
        return busy == 0 && starting == 0 && queue.isEmpty() && stuck.stuck() == 0;
    }

    public synchronized long lastUsedNanos() {
        return lastUsedNanos;
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * Forms batches while an idle worker and queued work exist; asks for another worker when work
     * waits and none is free.
     */
    private void dispatchLocked(Effects fx) {
        // read the clock under the lock: a time read before it could precede a modelLoaded() mark
        long now = System.nanoTime();
        while (!idle.isEmpty() && !queue.isEmpty()) {
            List<PendingRequest> members = new ArrayList<>();
            int items = queue.collect(members, batchCap, now, r -> expire(fx, r, now));
            if (members.isEmpty()) {
                continue; // the head had expired; look again
            }
            PendingRequest oldest = members.get(0);
            if (items < batchCap && shouldLinger(oldest, now)) {
                armLingerLocked(oldest, now);
                break;
            }
            for (PendingRequest r : members) {
                r.state = PendingRequest.State.RUNNING;
                r.startNanos = now;
                running.add(r);
            }
            queue.removeBatch(items);
            BatchWorker worker = idle.pop().worker();
            busy++;
            Batch batch = new Batch(BATCH_IDS.incrementAndGet(), members, items);
            StuckWorkerPolicy.InFlight f = stuck.started(batch, worker, now);
            deadlines.watch(f.stuckAtNanos);
            fx.act(() -> run(f, batch));
        }
        int workers = busy + idle.size() + starting;
        if (!queue.isEmpty() && idle.isEmpty() && !closed
                && workers < stuck.freeSlots()
                && (starting == 0 || queue.items() > starting * batchCap)) {
            starting++;
            fx.act(scaler::startWorker);
        }
        checkDrainedLocked(fx);
    }

    private boolean shouldLinger(PendingRequest oldest, long now) {
        return !closed
                && maxBatchDelayNanos > 0
                && batchCap > 1
                && oldest.behindBusy
                && now - oldest.arrivalNanos < maxBatchDelayNanos;
    }

    private void armLingerLocked(PendingRequest oldest, long now) {
        if (lingerTimer == NO_TIMER) {
            long delay = DeadlineWatch.millisUntil(oldest.arrivalNanos + maxBatchDelayNanos, now);
            lingerTimer = vertx.setTimer(delay, id -> {
                Effects fx = new Effects();
                synchronized (this) {
                    lingerTimer = NO_TIMER;
                    dispatchLocked(fx);
                }
                fx.run();
            });
        }
    }

    private void cancelLingerLocked() {
        if (lingerTimer != NO_TIMER) {
            vertx.cancelTimer(lingerTimer);
            lingerTimer = NO_TIMER;
        }
    }

    private void run(StuckWorkerPolicy.InFlight f, Batch batch) {
        Future<BatchOutput> output;
        try {
            output = f.worker.run(batch);
        } catch (RuntimeException | Error e) { // NOPMD: a worker that throws must not leave the batch hanging
            output = Future.failedFuture(e);
        }
        output.onComplete(ar -> batchDone(f, batch, ar));
    }

    private void batchDone(StuckWorkerPolicy.InFlight f, Batch batch, AsyncResult<BatchOutput> ar) {
        f.ended.tryComplete();
        Effects late = new Effects();
        boolean inService;
        synchronized (this) {
            inService = stuck.ended(late, f, batch);
            if (!inService) { // its callers were answered long ago: only its slot comes back
                topUpLocked(late);
                dispatchLocked(late);
                checkDrainedLocked(late);
            }
        }
        if (!inService) {
            late.run();
            return;
        }
        BatchWorker worker = f.worker;
        long computeNanos = ar.succeeded() ? ar.result().computeNanos() : System.nanoTime() - f.startedNanos;
        boolean broken = ar.failed() && StuckWorkerPolicy.isBroken(ar.cause());
        List<List<Tensor>> split = null;
        ServingException error = null;
        if (ar.succeeded()) {
            try {
                split = batch.split(ar.result().outputs());
            } catch (RuntimeException e) {
                error = new InferenceFailedException(key + ": " + e.getMessage(), e);
            }
        } else {
            Throwable cause = ar.cause();
            LOG.warn("{}: batch {} of {} item(s) failed: {}", key, batch.id(), batch.items(),
                    cause.toString());
            error = cause instanceof ServingException se
                    ? se
                    : new InferenceFailedException(key + " failed on its batch: " + cause.getMessage(),
                            cause);
        }
        metrics.batch(batch.items(), computeNanos);
        Effects fx = new Effects();
        synchronized (this) {
            busy--;
            if (broken) {
                LOG.warn("{}: worker broken by {}; replacing it", key, ar.cause().toString());
                metrics.workerReplaced(false);
                fx.act(() -> scaler.stopWorker(worker, Future.succeededFuture()));
                topUpLocked(fx);
            } else {
                idle.push(new IdleWorker(worker, System.nanoTime()));
            }
            avgBatchNanos = 0.8 * avgBatchNanos + 0.2 * computeNanos;
            List<PendingRequest> requests = batch.requests();
            for (int i = 0; i < requests.size(); i++) {
                PendingRequest r = requests.get(i);
                running.remove(r);
                r.state = PendingRequest.State.DONE;
                fx.answer(r.context,
                        responder.ran(r, batch, computeNanos, split == null ? null : split.get(i), error));
            }
            dispatchLocked(fx);
        }
        fx.run();
    }

    /**
     * The worker of a batch far past its deadline was declared stuck ({@link StuckWorkerPolicy}).
     * Its requests were answered at their deadlines; their facts are published now, not when (if
     * ever) the batch returns.
     */
    private void abandonLocked(Effects fx, Batch batch, StuckWorkerPolicy.InFlight f, long now) {
        busy--;
        ServingException late = new DeadlineExceededException(
                key + ": deadline passed while the request was computing", true);
        for (PendingRequest r : batch.requests()) {
            running.remove(r);
            r.state = PendingRequest.State.DONE;
            if (r.answeredEarly == null) {
                fx.answer(r.context, responder.answerEarly(r, late));
            }
            fx.answer(r.context, responder.ran(r, batch, now - f.startedNanos, null, late));
        }
        fx.act(() -> scaler.stopWorker(f.worker, f.ended.future()));
        if (stuck.allSlotsHeld()) {
            failQueuedLocked(fx, stuck.allStuck());
        }
        topUpLocked(fx);
    }

    /** Starts workers up to the minimum again after one was taken out of service. */
    private void topUpLocked(Effects fx) {
        int target = Math.min(config.minWorkers(), stuck.freeSlots());
        if (!closed && modelLoaded && busy + idle.size() + starting < target) {
            starting++;
            fx.act(scaler::startWorker);
        }
    }

    /** Fails queued requests past their deadline (never run), answers running ones, abandons stuck workers. */
    private void onDeadlineTimer(long id) {
        Effects fx = new Effects();
        synchronized (this) {
            if (!deadlines.fired(id)) {
                return; // replaced by an earlier deadline
            }
            long now = System.nanoTime();
            long next = queue.expireDue(now, r -> expire(fx, r, now));
            next = Math.min(next, answerRunningLocked(fx, now, null));
            next = Math.min(next, stuck.sweep(now, (batch, f) -> abandonLocked(fx, batch, f, now)));
            dispatchLocked(fx);
            deadlines.watch(next);
            checkDrainedLocked(fx);
        }
        fx.run();
    }

    /**
     * Answers, without waiting for their batch, the running requests whose deadline is at or before
     * {@code now}: with {@code error}, or past their deadline if it is null. Returns the earliest
     * deadline of the others.
     */
    private long answerRunningLocked(Effects fx, long now, ServingException error) {
        long next = Long.MAX_VALUE;
        for (PendingRequest r : running) {
            if (r.answeredEarly != null) {
                continue;
            }
            if (r.deadlineNanos <= now || error != null) {
                fx.answer(r.context, responder.answerEarly(r, error != null ? error : new DeadlineExceededException(
                        key + ": deadline passed while the request was computing", true)));
            } else {
                next = Math.min(next, r.deadlineNanos);
            }
        }
        return next;
    }

    private List<BatchWorker> takeIdleLocked() {
        List<BatchWorker> all = new ArrayList<>();
        idle.forEach(w -> all.add(w.worker()));
        idle.clear();
        return all;
    }

    private void failQueuedLocked(Effects fx, ServingException error) {
        long now = System.nanoTime();
        queue.clear(r -> {
            r.state = PendingRequest.State.DONE;
            fx.answer(r.context, responder.notRun(r, error, now));
        });
    }

    /** Fails a request that never ran because its deadline passed. */
    private void expire(Effects fx, PendingRequest r, long now) {
        r.state = PendingRequest.State.DONE;
        fx.answer(r.context, responder.notRun(r, new DeadlineExceededException(key + ": deadline passed after "
                + Duration.ofNanos(now - r.arrivalNanos).toMillis() + " ms in the queue; not run",
                false), now));
    }

    private void refuse(Effects fx, PendingRequest r, ServingException error) {
        r.state = PendingRequest.State.DONE;
        fx.answer(r.context, responder.notRun(r, error, r.arrivalNanos));
    }

    private void checkDrainedLocked(Effects fx) {
        // a worker still starting will be deployed: wait for it, so that its owner can stop it
        if (closed && queue.isEmpty() && busy == 0 && starting == 0) {
            fx.act(drained::tryComplete);
        }
    }

    private Duration retryAfterLocked() {
        int workers = Math.max(1, busy + idle.size());
        double batchesAhead = (double) queue.items() / batchCap + 1;
        long nanos = (long) (batchesAhead * avgBatchNanos / workers);
        long seconds = Math.max(1, Math.min(60, (nanos + 999_999_999L) / 1_000_000_000L));
        return Duration.ofSeconds(seconds);
    }
}
