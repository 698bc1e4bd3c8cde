package com.modelmarket.serving.batch;

import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.RequestOutcome;
import com.modelmarket.serving.model.Tensor;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import java.util.List;

/** A request inside a {@link Batcher}. Mutable fields are guarded by the batcher's lock. */
final class PendingRequest {

    enum State { QUEUED, RUNNING, DONE }

    private final List<Tensor> inputs;
    private final List<String> wantedOutputs;
    private final int items;
    private final String signature;
    final long arrivalNanos;
    final long deadlineNanos;
    final Context context;
    final Promise<InferenceResult> promise = Promise.promise();

    State state = State.QUEUED;
    /** Arrived while every worker was busy: the only requests a batch may linger for. */
    boolean behindBusy;
    /** Arrived while the model was not loaded. */
    boolean cold;
    long loadedNanos;
    long startNanos;
    /** Set when the caller was answered before the batch ended (deadline, shutdown). */
    RequestOutcome answeredEarly;

    PendingRequest(
            List<Tensor> inputs, List<String> wantedOutputs, int items, long arrivalNanos,
            long deadlineNanos, Context context) {
        this.inputs = inputs;
        this.wantedOutputs = wantedOutputs;
        this.items = items;
        this.signature = signature(inputs);
        this.arrivalNanos = arrivalNanos;
        this.deadlineNanos = deadlineNanos;
        this.context = context;
    }

    List<Tensor> inputs() {
        return inputs;
    }

    List<String> wantedOutputs() {
        return wantedOutputs;
    }

    int items() {
        return items;
    }

    /** Requests with equal signatures can share a batch: same types and non-batch dimensions. */
    String signature() {
        return signature;
    }

    /** When it became runnable: arrival, or the end of the cold start it waited for. */
    long readyNanos() {
        return cold && loadedNanos > 0 ? loadedNanos : arrivalNanos;
    }

    private static String signature(List<Tensor> inputs) {
        StringBuilder sb = new StringBuilder();
        for (Tensor t : inputs) {
            sb.append(t.datatype()).append('[');
            for (int i = 1; i < t.rank(); i++) {
                sb.append(t.dim(i)).append(',');
            }
            sb.append(']');
        }
        return sb.toString();
    }
}
