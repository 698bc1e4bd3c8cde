package com.modelmarket.serving.batch;

import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ServingException;
import com.modelmarket.serving.metrics.ModelMetrics;
import io.vertx.core.Future;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The batches of a {@link Batcher} now computing, and what their end means for their requests and
 * their worker: a batch that ends in service answers its requests through the {@link Responder}
 * and gives its worker back to the {@link WorkerSlots}, or stops it if it is broken; a running
 * request whose deadline passes first is answered then; a batch whose worker is declared stuck
 * has its requests settled and its worker stopped once the batch returns. Guarded by the
 * batcher's lock; whatever reaches other threads goes into the locked section's {@link Effects}.
 */
final class RunningBatches {

    private static final Logger LOG = LoggerFactory.getLogger(Batcher.class);

    private final ModelKey key;
    private final Responder responder;
    private final WorkerSlots slots;
    private final Batcher.Scaler scaler;
    private final ModelMetrics metrics;
    /** Requests now computing, so that a deadline or an abort can answer them early. */
    private final Set<PendingRequest> running = new HashSet<>();

    RunningBatches(ModelKey key, Responder responder, WorkerSlots slots, Batcher.Scaler scaler,
            ModelMetrics metrics) {
        this.key = key;
        this.responder = responder;
        this.slots = slots;
        this.scaler = scaler;
        this.metrics = metrics;
    }

    /** Requests now computing. */
    int size() {
        return running.size();
    }

    /** The members of a batch start computing at {@code now}. */
    void start(List<PendingRequest> members, long now) {
        for (PendingRequest r : members) {
            r.state = PendingRequest.State.RUNNING;
            r.startNanos = now;
            running.add(r);
        }
    }

    /**
     * A batch whose worker was in service ended: the worker serves again, or is stopped if the
     * result says it is broken; each request gets its outputs or the batch's error.
     *
     * @return whether the worker was broken, and its slot is free for a replacement
     */
    boolean finish(Effects fx, BatchWorker worker, Batch batch, BatchResult result) {
        if (result.broken()) {
            slots.left();
            LOG.warn("{}: worker broken by {}; replacing it", key, result.failure().toString());
            metrics.workerReplaced(false);
            fx.act(() -> scaler.stopWorker(worker, Future.succeededFuture()));
        } else {
            slots.returned(worker, System.nanoTime());
        }
        slots.batchTook(result.computeNanos());
        List<PendingRequest> requests = batch.requests();
        for (int i = 0; i < requests.size(); i++) {
            PendingRequest r = requests.get(i);
            running.remove(r);
            r.state = PendingRequest.State.DONE;
            fx.answer(r.context, responder.ran(r, batch, result.computeNanos(), result.outputsOf(i),
                    result.error()));
        }
        return result.broken();
    }

    /**
     * The worker of {@code batch} was declared stuck ({@link StuckWorkerPolicy}): it leaves
     * service and is stopped once the batch returns. Its requests were answered at their
     * deadlines; their facts are published now, not when (if ever) the batch returns.
     */
    void abandon(Effects fx, Batch batch, StuckWorkerPolicy.InFlight f, long now) {
        slots.left();
        ServingException late = pastDeadline();
        for (PendingRequest r : batch.requests()) {
            running.remove(r);
            r.state = PendingRequest.State.DONE;
            if (r.answeredEarly == null) {
                fx.answer(r.context, responder.answerEarly(r, late));
            }
            fx.answer(r.context, responder.ran(r, batch, now - f.startedNanos, null, late));
        }
        fx.act(() -> scaler.stopWorker(f.worker, f.ended.future()));
    }

    /**
     * Answers, without waiting for their batch, the running requests whose deadline is at or before
     * {@code now}: with {@code error}, or past their deadline if it is null. Returns the earliest
     * deadline of the others.
     */
    long answerDue(Effects fx, long now, ServingException error) {
        long next = Long.MAX_VALUE;
        for (PendingRequest r : running) {
            if (r.answeredEarly != null) {
                continue;
            }
            if (r.deadlineNanos <= now || error != null) {
                fx.answer(r.context, responder.answerEarly(r, error != null ? error : pastDeadline()));
            } else {
                next = Math.min(next, r.deadlineNanos);
            }
        }
        return next;
    }

    private DeadlineExceededException pastDeadline() {
        return new DeadlineExceededException(key + ": deadline passed while the request was computing", true);
    }
}
