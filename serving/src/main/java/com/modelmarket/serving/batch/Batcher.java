package com.modelmarket.serving.batch;

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
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 *   <li>For a model whose lone item is costly (calibrated), under concurrent load a batch gathers
 *       the callers coming back for up to {@code maxBatchDelay} after its worker frees, and a
 *       partial batch is not queued behind running batches that occupy the runtime's compute
 *       threads ({@link Linger}): closed-loop callers then stay in one batch instead of splitting
 *       into small ones that each pay a whole forward pass.
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
 * <p>Parts: the {@link RequestQueue}, the {@link WorkerSlots} (idle, busy, starting), the {@link
 * BatchRunner} and its {@link RunningBatches}, the {@link Linger} timer, the {@link DeadlineWatch}
 * (one timer for every deadline), the {@link StuckWorkerPolicy}. State is guarded by this object's lock. Whatever a locked section decides to do that reaches
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

    private final ModelKey key;
    private final PoolConfig config;
    private final Responder responder;
    private final StuckWorkerPolicy stuck;
    private final DeadlineWatch deadlines;
    private final Linger linger;
    private final WorkerSlots slots;
    private final RunningBatches running;
    private final BatchRunner runner;

    private final RequestQueue queue = new RequestQueue();
    private int batchCap;
    private boolean modelLoaded;
    private boolean closed;
    private long lastUsedNanos = System.nanoTime();
    private final Promise<Void> drained = Promise.promise();

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
        this.key = key;
        this.config = config;
        this.responder = new Responder(key, metrics, factsListener);
        this.stuck = new StuckWorkerPolicy(key, config.maxWorkers(), stuckGrace, scaler, metrics);
        this.deadlines = new DeadlineWatch(vertx, this::onDeadlineTimer);
        this.linger = new Linger(vertx, config.maxBatchDelay(), this::onLingerTimer);
        this.slots = new WorkerSlots(scaler);
        this.running = new RunningBatches(key, responder, slots, scaler, metrics);
        this.runner = new BatchRunner(this, key, metrics, stuck, running, deadlines, this::topUpLocked,
                this::dispatchLocked);
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
                responder.refuse(fx, r, new OverloadedException(key + " is shutting down", Duration.ofSeconds(1)));
            } else if (stuck.allSlotsHeld()) {
                responder.refuse(fx, r, stuck.allStuck());
            } else if (queue.items() + items > config.maxQueue()) {
                responder.refuse(fx, r, new OverloadedException(
                        key + " has " + queue.items() + " items queued (limit " + config.maxQueue() + ")",
                        slots.retryAfter(queue.items(), batchCap)));
            } else if (deadlineNanos <= now) {
                responder.expire(fx, r, now);
            } else {
                r.behindBusy = !slots.hasIdle() && slots.busy() > 0;
                r.cold = !modelLoaded;
                queue.add(r);
                linger.observe(running.size() + queue.size());
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
        slots.expect(count);
    }

    /** A worker asked for through the {@link Scaler} (or announced) is ready. */
    public void workerStarted(BatchWorker worker) {
        changeAndDispatch(() -> slots.started(worker, System.nanoTime()));
    }

    /**
     * A worker could not be started. With no worker left at all (a failed cold start), waiting
     * requests fail with {@link InferenceFailedException}.
     */
    public void workerFailed(Throwable cause) {
        Effects fx = new Effects();
        synchronized (this) {
            slots.startFailed();
            if (slots.all() == 0 && !queue.isEmpty()) {
                LOG.warn("{}: no worker could start, failing {} queued request(s): {}", key,
                        queue.size(), cause.toString());
                responder.failAll(fx, queue, cause instanceof ServingException se
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
        changeAndDispatch(() -> batchCap = Math.max(1, Math.min(config.maxBatchSize(), cap)));
    }

    /**
     * The calibrated items per second of single-item batches, and how many batches of this version
     * its runtime computes at once: for a model whose lone item is costly, batches under load
     * gather the callers coming back, and partial batches are not queued behind running ones
     * ({@link Linger}).
     */
    public void useCalibration(double singleItemsPerSecond, int parallelism) {
        changeAndDispatch(() -> linger.calibrated(singleItemsPerSecond, parallelism));
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
        return slots.retireIdle(idleTimeout.toNanos(), keep, System.nanoTime());
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
        return slots.takeIdle();
    }

    /**
     * The model's process is gone (its host died): idle workers are taken out of service and the
     * model counts as unloaded, so that the next request, or work still queued, loads it again.
     * Running batches fail on their own; their workers are replaced then.
     *
     * @return the idle workers, for the caller to stop
     */
    public List<BatchWorker> modelLost() {
        List<BatchWorker> gone = new ArrayList<>();
        changeAndDispatch(() -> {
            gone.addAll(slots.takeIdle());
            modelLoaded = false;
        });
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
            linger.cancel();
            if (slots.all() == 0) {
                responder.failAll(fx, queue, new OverloadedException(key + " is shutting down", Duration.ofSeconds(1)));
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
            linger.cancel();
            responder.failAll(fx, queue, error);
            // running batches keep their worker until they end; their callers are answered now
            running.answerDue(fx, Long.MAX_VALUE, error);
            fx.act(drained::tryComplete);
        }
        fx.run();
    }

    public synchronized int queuedItems() {
        return queue.items();
    }

    public synchronized int workers() {
        return slots.up();
    }

    public synchronized int busyWorkers() {
        return slots.busy();
    }

    public synchronized boolean isIdle() {
        return slots.noneBusyOrStarting() && queue.isEmpty() && stuck.stuck() == 0;
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
        while (slots.hasIdle() && !queue.isEmpty()) {
            List<PendingRequest> members = new ArrayList<>();
            int items = queue.collect(members, batchCap, now, r -> responder.expire(fx, r, now));
            if (members.isEmpty()) {
                continue; // the head had expired; look again
            }
            PendingRequest oldest = members.get(0);
            if (items < batchCap && !closed) {
                long end = linger.waitEnd(oldest, batchCap, members.size(), slots.busy(), slots.idleSince(), now);
                if (end != Linger.GO) {
                    linger.arm(end, now);
                    break;
                }
            }
            linger.launched(now);
            runner.launchLocked(fx, members, items, slots.take(), now); // marks them RUNNING
            queue.removeBatch(items);
        }
        if (!queue.isEmpty() && !closed && slots.wantAnother(queue.items(), batchCap, stuck.freeSlots())) {
            slots.startOne(fx);
        }
        checkDrainedLocked(fx);
    }

    private void onLingerTimer() {
        changeAndDispatch(linger::fired);
    }

    /** Makes {@code change} under the lock, dispatches, and acts on that once the lock is released. */
    private void changeAndDispatch(Runnable change) {
        Effects fx = new Effects();
        synchronized (this) {
            change.run();
            dispatchLocked(fx);
        }
        fx.run();
    }

    /** The worker of a batch far past its deadline was declared stuck ({@link StuckWorkerPolicy}). */
    private void abandonLocked(Effects fx, Batch batch, StuckWorkerPolicy.InFlight f, long now) {
        running.abandon(fx, batch, f, now);
        if (stuck.allSlotsHeld()) {
            responder.failAll(fx, queue, stuck.allStuck());
        }
        topUpLocked(fx);
    }

    /** Starts workers up to the minimum again after one was taken out of service. */
    private void topUpLocked(Effects fx) {
        int target = Math.min(config.minWorkers(), stuck.freeSlots());
        if (!closed && modelLoaded && slots.all() < target) {
            slots.startOne(fx);
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
            long next = queue.expireDue(now, r -> responder.expire(fx, r, now));
            next = Math.min(next, running.answerDue(fx, now, null));
            next = Math.min(next, stuck.sweep(now, (batch, f) -> abandonLocked(fx, batch, f, now)));
            dispatchLocked(fx);
            deadlines.watch(next);
            checkDrainedLocked(fx);
        }
        fx.run();
    }

    private void checkDrainedLocked(Effects fx) {
        // a worker still starting will be deployed: wait for it, so that its owner can stop it
        if (closed && queue.isEmpty() && slots.noneBusyOrStarting()) {
            fx.act(drained::tryComplete);
        }
    }
}
