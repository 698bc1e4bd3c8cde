package com.modelmarket.serving.batch;

import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.RequestOutcome;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.ServingException;
import com.modelmarket.serving.metrics.ModelMetrics;
import com.modelmarket.serving.model.Tensor;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the answer of a request: a task for its caller's context that publishes the request's
 * facts exactly once (metrics, then the listener) and then completes the caller's future. The
 * batcher decides answers under its lock and runs these tasks after releasing it; the ones for
 * requests that never ran go straight into the locked section's {@link Effects}.
 */
final class Responder {

    private static final Logger LOG = LoggerFactory.getLogger(Responder.class);

    private final ModelKey key;
    private final ModelMetrics metrics;
    private final Consumer<RequestFacts> listener;

    Responder(ModelKey key, ModelMetrics metrics, Consumer<RequestFacts> listener) {
        this.key = key;
        this.metrics = metrics;
        this.listener = listener;
    }

    /** A request that ran in {@code batch}: its outputs, or the batch's error. */
    Runnable ran(PendingRequest r, Batch batch, long computeNanos, List<Tensor> outputs,
            ServingException error) {
        long share = computeNanos * r.items() / batch.items();
        if (r.answeredEarly != null) {
            // the caller already has its answer; the compute was spent all the same
            RequestFacts facts = facts(r, r.answeredEarly, r.startNanos, share, batch);
            return () -> publish(facts);
        }
        RequestOutcome outcome = error == null ? RequestOutcome.SUCCESS : RequestOutcome.FAILED;
        RequestFacts facts = facts(r, outcome, r.startNanos, share, batch);
        return answer(r, error == null ? new InferenceResult(outputs, facts) : null, error, facts);
    }

    /** A request that never ran: refused, expired in the queue, or failed with its queue. */
    Runnable notRun(PendingRequest r, ServingException error, long now) {
        return answer(r, null, error, facts(r, outcomeOf(error), now, 0, null));
    }

    /** Refuses a request on arrival: it never queued. */
    void refuse(Effects fx, PendingRequest r, ServingException error) {
        r.state = PendingRequest.State.DONE;
        fx.answer(r.context, notRun(r, error, r.arrivalNanos));
    }

    /** Fails a request that never ran because its deadline passed while it queued. */
    void expire(Effects fx, PendingRequest r, long now) {
        r.state = PendingRequest.State.DONE;
        fx.answer(r.context, notRun(r, new DeadlineExceededException(key + ": deadline passed after "
                + Duration.ofNanos(now - r.arrivalNanos).toMillis() + " ms in the queue; not run",
                false), now));
    }

    /** Fails every request still queued with {@code error}, emptying the queue. */
    void failAll(Effects fx, RequestQueue queue, ServingException error) {
        long now = System.nanoTime();
        queue.clear(r -> {
            r.state = PendingRequest.State.DONE;
            fx.answer(r.context, notRun(r, error, now));
        });
    }

    /** Answers a running request now (deadline, shutdown); its facts follow when its batch ends. */
    Runnable answerEarly(PendingRequest r, ServingException error) {
        r.answeredEarly = outcomeOf(error);
        return () -> r.promise.tryFail(error);
    }

    static RequestOutcome outcomeOf(ServingException e) {
        if (e instanceof OverloadedException) {
            return RequestOutcome.OVERLOADED;
        }
        if (e instanceof DeadlineExceededException) {
            return RequestOutcome.DEADLINE_EXCEEDED;
        }
        return RequestOutcome.FAILED;
    }

    private RequestFacts facts(PendingRequest r, RequestOutcome outcome, long until, long computeNanos,
            Batch batch) {
        long loadNanos = r.cold ? Math.max(0, (r.loadedNanos > 0 ? r.loadedNanos : until)
                - r.arrivalNanos) : 0;
        return new RequestFacts(key, outcome, r.items(), Math.max(0, until - r.readyNanos()),
                computeNanos, batch == null ? 0 : batch.items(), batch == null ? 0 : batch.id(), r.cold,
                loadNanos);
    }

    private Runnable answer(
            PendingRequest r, InferenceResult result, ServingException error, RequestFacts facts) {
        return () -> {
            publish(facts);
            if (error == null) {
                r.promise.tryComplete(result);
            } else {
                r.promise.tryFail(error);
            }
        };
    }

    private void publish(RequestFacts facts) {
        metrics.request(facts.outcome(), facts.queueNanos(), facts.batchId() != 0);
        try {
            listener.accept(facts);
        } catch (RuntimeException e) {
            LOG.warn("request listener failed", e);
        }
    }
}
