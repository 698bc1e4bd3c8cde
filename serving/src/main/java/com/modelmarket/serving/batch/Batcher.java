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
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
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
 * <p>State is guarded by this object's lock. Whatever a locked section decides to do that reaches
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
    private final long stuckGraceNanos;

    private final ArrayDeque<PendingRequest> queue = new ArrayDeque<>();
    private final ArrayDeque<IdleWorker> idle = new ArrayDeque<>();
    /** Requests now computing, so that {@link #abort} can answer them. */
    private final Set<PendingRequest> running = new HashSet<>();
    /** Batches now computing on a worker in service. */
    private final Map<Batch, InFlight> inFlight = new IdentityHashMap<>();
    /** Batches whose worker was declared stuck, until they return. */
    private final Map<Batch, InFlight> abandoned = new IdentityHashMap<>();
    /** Stuck workers lent no spare thread: each still holds a worker slot. */
    private int unreplaced;
    private int batchCap;
    private int queuedItems;
    private int busy;
    private int starting;
    private boolean modelLoaded;
    private boolean closed;
    private long lingerTimer = NO_TIMER;
    /** One timer for all deadlines, armed for the earliest one pending. */
    private long deadlineTimer = NO_TIMER;
    private long deadlineTimerAt = Long.MAX_VALUE;
    private long lastUsedNanos = System.nanoTime();
    private double avgBatchNanos = 1_000_000;
    private final Promise<Void> drained = Promise.promise();

    private record IdleWorker(BatchWorker worker, long sinceNanos) {}

    /** A batch on its worker; {@code stuckAtNanos} is when the worker counts as stuck. */
    private static final class InFlight {
        final BatchWorker worker;
        final long startedNanos;
        final long stuckAtNanos;
        final Promise<Void> ended = Promise.promise();
        boolean replaced;

        InFlight(BatchWorker worker, long startedNanos, long stuckAtNanos) {
            this.worker = worker;
            this.startedNanos = startedNanos;
            this.stuckAtNanos = stuckAtNanos;
        }
    }

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
        this.stuckGraceNanos = stuckGrace.toNanos();
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
            } else if (unreplaced >= config.maxWorkers()) {
                refuse(fx, r, allStuck());
            } else if (queuedItems + items > config.maxQueue()) {
                refuse(fx, r, new OverloadedException(
                        key + " has " + queuedItems + " items queued (limit " + config.maxQueue() + ")",
                        retryAfterLocked()));
            } else if (deadlineNanos <= now) {
                r.state = PendingRequest.State.DONE;
                expire(fx, r, now);
            } else {
                r.behindBusy = idle.isEmpty() && busy > 0;
                r.cold = !modelLoaded;
                queue.addLast(r);
                queuedItems += items;
                watchDeadlineLocked(deadlineNanos);
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
        return abandoned.size();
    }

    /** Records that the model is in memory: requests that waited for it were cold starts. */
    public synchronized void modelLoaded() {
        modelLoaded = true;
        long now = System.nanoTime();
        for (PendingRequest r : queue) {
            if (r.cold && r.loadedNanos == 0) {
                r.loadedNanos = now;
            }
        }
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
        if (busy > 0 || starting > 0 || !queue.isEmpty() || !abandoned.isEmpty()) {
            return null;
        }
        List<BatchWorker> all = new ArrayList<>();
        idle.forEach(w -> all.add(w.worker()));
        idle.clear();
        modelLoaded = false;
        return all;
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
        List<BatchWorker> gone = new ArrayList<>();
        synchronized (this) {
            idle.forEach(w -> gone.add(w.worker()));
            idle.clear();
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
            for (PendingRequest r : running) {
                if (r.answeredEarly == null) {
                    fx.answer(r.context, responder.answerEarly(r, error));
                }
            }
            fx.act(drained::tryComplete);
        }
        fx.run();
    }

    public synchronized int queuedItems() {
        return queuedItems;
    }

    public synchronized int workers() {
        return busy + idle.size();
    }

    public synchronized int busyWorkers() {
        return busy;
    }

    public synchronized boolean isIdle() {
        return busy == 0 && starting == 0 && queue.isEmpty() && abandoned.isEmpty();
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
            int items = collectLocked(fx, members, now);
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
            queue.removeIf(r -> r.state != PendingRequest.State.QUEUED);
            queuedItems -= items;
            BatchWorker worker = idle.pop().worker();
            busy++;
            Batch batch = new Batch(BATCH_IDS.incrementAndGet(), members, items);
            long stuckAt = stuckAtLocked(members);
            InFlight f = new InFlight(worker, now, stuckAt);
            inFlight.put(batch, f);
            watchDeadlineLocked(stuckAt);
            fx.act(() -> run(f, batch));
        }
        int workers = busy + idle.size() + starting;
        if (!queue.isEmpty() && idle.isEmpty() && !closed
                && workers < config.maxWorkers() - unreplaced
                && (starting == 0 || queuedItems > starting * batchCap)) {
            starting++;
            fx.act(scaler::startWorker);
        }
        checkDrainedLocked(fx);
    }

    /**
     * Fills {@code members} with the oldest live request and the later ones that fit beside it;
     * removes expired requests met on the way. Returns the item count.
     */
    private int collectLocked(Effects fx, List<PendingRequest> members, long now) {
        int items = 0;
        Iterator<PendingRequest> it = queue.iterator();
        while (it.hasNext()) {
            PendingRequest r = it.next();
            if (r.deadlineNanos <= now) {
                it.remove();
                queuedItems -= r.items();
                r.state = PendingRequest.State.DONE;
                expire(fx, r, now);
                continue;
            }
            if (members.isEmpty()) {
                members.add(r);
                items = r.items();
            } else if (r.signature().equals(members.get(0).signature())
                    && items + r.items() <= batchCap) {
                members.add(r);
                items += r.items();
            }
            if (items >= batchCap) {
                break;
            }
        }
        return items;
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
            lingerTimer = vertx.setTimer(millisUntil(oldest.arrivalNanos + maxBatchDelayNanos, now), id -> {
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

    /** When a batch's worker counts as stuck: the grace after its requests' latest deadline. */
    private long stuckAtLocked(List<PendingRequest> members) {
        long latest = Long.MIN_VALUE; // nanoTime() may be negative
        for (PendingRequest r : members) {
            latest = Math.max(latest, r.deadlineNanos);
        }
        return latest > Long.MAX_VALUE - stuckGraceNanos ? Long.MAX_VALUE : latest + stuckGraceNanos;
    }

    private void run(InFlight f, Batch batch) {
        Future<BatchOutput> output;
        try {
            output = f.worker.run(batch);
        } catch (RuntimeException | Error e) { // NOPMD: a worker that throws must not leave the batch hanging
            output = Future.failedFuture(e);
        }
        output.onComplete(ar -> batchDone(f, batch, ar));
    }

    private void batchDone(InFlight f, Batch batch, AsyncResult<BatchOutput> ar) {
        f.ended.tryComplete();
        Effects late = null;
        synchronized (this) {
            if (inFlight.remove(batch) == null) {
                late = new Effects();
                lateReturnLocked(late, f, batch);
            }
        }
        if (late != null) {
            late.run();
            return;
        }
        BatchWorker worker = f.worker;
        long computeNanos = ar.succeeded() ? ar.result().computeNanos() : System.nanoTime() - f.startedNanos;
        boolean broken = ar.failed() && isBroken(ar.cause());
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
     * A batch whose worker was declared stuck has ended: its callers were answered long ago, so the
     * result is dropped; the worker slot or spare thread it held is free again.
     */
    private void lateReturnLocked(Effects fx, InFlight f, Batch batch) {
        abandoned.remove(batch);
        if (f.replaced) {
            fx.act(scaler::returnSpare);
        } else {
            unreplaced--;
        }
        LOG.info("{}: stuck worker returned from batch {} after {} ms; its result is discarded", key,
                batch.id(), (System.nanoTime() - f.startedNanos) / 1_000_000);
        topUpLocked(fx);
        dispatchLocked(fx);
        checkDrainedLocked(fx);
    }

    /**
     * Takes the worker of a batch far past its deadline out of service. Its requests were answered at
     * their deadlines; their facts are published now, not when (if ever) the batch returns.
     */
    private void abandonLocked(Effects fx, Batch batch, InFlight f, long now) {
        busy--;
        abandoned.put(batch, f);
        f.replaced = abandoned.size() - unreplaced <= config.maxWorkers() && scaler.lendSpare(f.worker);
        if (!f.replaced) {
            unreplaced++;
        }
        metrics.workerReplaced(true);
        LOG.warn("{}: worker stuck in batch {} of {} item(s) for {} ms, {} ms past its requests' deadlines; "
                        + "abandoned and {}", key, batch.id(), batch.items(), (now - f.startedNanos) / 1_000_000,
                (now - f.stuckAtNanos + stuckGraceNanos) / 1_000_000,
                f.replaced ? "replaced" : "not replaced (no spare thread left): its slot stays taken until it returns");
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
        if (unreplaced >= config.maxWorkers()) {
            failQueuedLocked(fx, allStuck());
        }
        topUpLocked(fx);
    }

    /** Starts workers up to the minimum again after one was taken out of service. */
    private void topUpLocked(Effects fx) {
        int target = Math.min(config.minWorkers(), config.maxWorkers() - unreplaced);
        if (!closed && modelLoaded && busy + idle.size() + starting < target) {
            starting++;
            fx.act(scaler::startWorker);
        }
    }

    private OverloadedException allStuck() {
        return new OverloadedException(key + ": every worker is stuck in a forward pass; retry later",
                Duration.ofNanos(Math.max(1_000_000_000L, stuckGraceNanos)));
    }

    /** Whether a batch failure says the worker itself is unusable. */
    private static boolean isBroken(Throwable failure) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
            if (t instanceof Error || t instanceof BatchWorker.BrokenException) {
                return true;
            }
        }
        return false;
    }

    /** Keeps the deadline timer armed for the earliest pending deadline. */
    private void watchDeadlineLocked(long deadlineNanos) {
        if (deadlineNanos == Long.MAX_VALUE || deadlineNanos >= deadlineTimerAt) {
            return;
        }
        if (deadlineTimer != NO_TIMER) {
            vertx.cancelTimer(deadlineTimer);
        }
        deadlineTimerAt = deadlineNanos;
        deadlineTimer = vertx.setTimer(millisUntil(deadlineNanos, System.nanoTime()), this::onDeadlineTimer);
    }

    /** Fails queued requests past their deadline (never run) and answers running ones now. */
    private void onDeadlineTimer(long id) {
        Effects fx = new Effects();
        synchronized (this) {
            if (id != deadlineTimer) {
                return; // replaced by an earlier deadline
            }
            deadlineTimer = NO_TIMER;
            deadlineTimerAt = Long.MAX_VALUE;
            long now = System.nanoTime();
            long next = Long.MAX_VALUE;
            for (Iterator<PendingRequest> it = queue.iterator(); it.hasNext(); ) {
                PendingRequest r = it.next();
                if (r.deadlineNanos <= now) {
                    it.remove();
                    queuedItems -= r.items();
                    r.state = PendingRequest.State.DONE;
                    expire(fx, r, now);
                } else {
                    next = Math.min(next, r.deadlineNanos);
                }
            }
            for (PendingRequest r : running) {
                if (r.answeredEarly != null) {
                    continue;
                }
                if (r.deadlineNanos <= now) {
                    fx.answer(r.context, responder.answerEarly(r, new DeadlineExceededException(
                            key + ": deadline passed while the request was computing", true)));
                } else {
                    next = Math.min(next, r.deadlineNanos);
                }
            }
            for (Iterator<Map.Entry<Batch, InFlight>> it = inFlight.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Batch, InFlight> e = it.next();
                Batch batch = e.getKey();
                InFlight f = e.getValue();
                if (f.stuckAtNanos <= now) {
                    it.remove(); // an IdentityHashMap entry is void once removed: read it first
                    abandonLocked(fx, batch, f, now);
                } else {
                    next = Math.min(next, f.stuckAtNanos);
                }
            }
            dispatchLocked(fx);
            watchDeadlineLocked(next);
            checkDrainedLocked(fx);
        }
        fx.run();
    }

    private void failQueuedLocked(Effects fx, ServingException error) {
        long now = System.nanoTime();
        for (PendingRequest r : queue) {
            r.state = PendingRequest.State.DONE;
            fx.answer(r.context, responder.notRun(r, error, now));
        }
        queue.clear();
        queuedItems = 0;
    }

    /** Fails a request that never ran because its deadline passed. */
    private void expire(Effects fx, PendingRequest r, long now) {
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
        double batchesAhead = (double) queuedItems / batchCap + 1;
        long nanos = (long) (batchesAhead * avgBatchNanos / workers);
        long seconds = Math.max(1, Math.min(60, (nanos + 999_999_999L) / 1_000_000_000L));
        return Duration.ofSeconds(seconds);
    }

    private static long millisUntil(long deadlineNanos, long now) {
        return Math.max(1, (deadlineNanos - now + 999_999) / 1_000_000);
    }

    /**
     * What a locked section decided, done once the lock is released: first start batches and
     * workers, then answer callers with one task per caller context.
     */
    private static final class Effects {
        private final List<Runnable> actions = new ArrayList<>(2);
        private final Map<Context, List<Runnable>> answers = new IdentityHashMap<>();

        void act(Runnable action) {
            actions.add(action);
        }

        void answer(Context context, Runnable answer) {
            answers.computeIfAbsent(context, c -> new ArrayList<>(4)).add(answer);
        }

        void run() {
            actions.forEach(Runnable::run);
            answers.forEach((context, list) -> context.runOnContext(v -> {
                for (Runnable answer : list) {
                    try {
                        answer.run();
                    } catch (RuntimeException e) {
                        LOG.warn("answering a request failed", e);
                    }
                }
            }));
        }
    }
}
