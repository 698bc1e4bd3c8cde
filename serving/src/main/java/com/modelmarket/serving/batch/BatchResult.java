package com.modelmarket.serving.batch;

import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ServingException;
import com.modelmarket.serving.model.Tensor;
import io.vertx.core.AsyncResult;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a batch's worker returned, read once outside the batcher's lock: each request's outputs, or
 * the error every request of the batch gets; the compute time; whether the worker is broken.
 *
 * @param outputs per request, in the batch's order; null when {@code error} is set
 * @param failure what the worker failed with; null if it returned outputs
 */
record BatchResult(
        long computeNanos, boolean broken, List<List<Tensor>> outputs, ServingException error,
        Throwable failure) {

    private static final Logger LOG = LoggerFactory.getLogger(Batcher.class);

    /** @param startedNanos when the batch started, for the compute time of one that failed */
    static BatchResult of(ModelKey key, Batch batch, AsyncResult<BatchOutput> ar, long startedNanos) {
        long computeNanos = ar.succeeded() ? ar.result().computeNanos() : System.nanoTime() - startedNanos;
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
        return new BatchResult(computeNanos, broken, split, error, ar.cause());
    }

    /** The outputs of the batch's request {@code index}, or null on an error. */
    List<Tensor> outputsOf(int index) {
        return outputs == null ? null : outputs.get(index);
    }
}
