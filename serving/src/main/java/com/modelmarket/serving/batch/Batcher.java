package com.modelmarket.serving.batch;

import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.RequestFacts;
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
 * </ul>
 *
 * <p>State is guarded by this object's lock. Whatever a locked section decides to do that reaches
 * other threads (starting a batch or a worker, answering callers on their Vert.x contexts, one
 * task per context) is collected in {@link Effects} and done after the lock is released, so
 * workers and the event loop never wait on each other's wake-ups.
 */
public final class Batcher {

    /** Starts workers on demand; must answer every call with {@link #workerStarted} or {@link #workerFailed}. */
    public interface Scaler {
        void startWorker();
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

    private final ArrayDeque<PendingRequest> queue = new ArrayDeque<>();
    private final ArrayDeque<IdleWorker> idle = new ArrayDeque<>();
    /** Requests now computing, so that {@link #abort} can answer them. */
    private final Set<PendingRequest> running = new HashSet<>();
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

    public Batcher(
            Vertx vertx, ModelKey key, PoolConfig config, Scaler scaler, ModelMetrics metrics,
            Consumer<RequestFacts> factsListener) {
        this.vertx = vertx;
        this.key = key;
        this.config = config;
        this.maxBatchDelayNanos = config.maxBatchDelay().toNanos();
        this.scaler = scaler;
        this.metrics = metrics;
        this.responder = new Responder(key, metrics, factsListener);
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
        if (busy > 0 || starting > 0 || !queue.isEmpty()) {
            return null;
        }
        List<BatchWorker> all = new ArrayList<>();
        idle.forEach(w -> all.add(w.worker()));
        idle.clear();
        modelLoaded = false;
        return all;
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
        return busy == 0 && starting == 0 && queue.isEmpty();
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
            if (items < config.maxBatchSize() && shouldLinger(oldest, now)) {
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
            fx.act(() -> run(worker, batch));
        }
        int workers = busy + idle.size() + starting;
        if (!queue.isEmpty() && idle.isEmpty() && !closed
                && workers < config.maxWorkers()
                && (starting == 0 || queuedItems > starting * config.maxBatchSize())) {
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
                    && items + r.items() <= config.maxBatchSize()) {
                members.add(r);
                items += r.items();
            }
            if (items >= config.maxBatchSize()) {
                break;
            }
        }
        return items;
    }

    private boolean shouldLinger(PendingRequest oldest, long now) {
        return !closed
                && maxBatchDelayNanos > 0
                && config.maxBatchSize() > 1
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

    private void run(BatchWorker worker, Batch batch) {
        long started = System.nanoTime();
        Future<BatchOutput> output;
        try {
            output = worker.run(batch);
        } catch (RuntimeException e) {
            output = Future.failedFuture(e);
        }
        output.onComplete(ar -> batchDone(worker, batch, started, ar));
    }

    private void batchDone(BatchWorker worker, Batch batch, long started, AsyncResult<BatchOutput> ar) {
        long computeNanos = ar.succeeded() ? ar.result().computeNanos() : System.nanoTime() - started;
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
            idle.push(new IdleWorker(worker, System.nanoTime()));
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
        double batchesAhead = (double) queuedItems / config.maxBatchSize() + 1;
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
