package com.modelmarket.serving.batch;

import io.vertx.core.Future;

/** Something that computes batches, one at a time: in production a worker verticle. */
public interface BatchWorker {

    /**
     * Computes {@code batch} and reports its outputs, in the model's output order, each with {@link
     * Batch#items()} entries in its first dimension. The batcher never hands a worker a second batch
     * before the first one's future completes. A failure fails that batch only; a failure whose
     * cause chain holds an {@link Error} or a {@link BrokenException} also means the worker itself
     * is broken: the batcher takes it out of service and starts another.
     */
    Future<BatchOutput> run(Batch batch);

    /** A worker that cannot compute any more batches (say its predictor could not be renewed). */
    final class BrokenException extends RuntimeException {

        private static final long serialVersionUID = 1L;

        public BrokenException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
