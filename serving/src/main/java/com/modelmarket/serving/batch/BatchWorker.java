package com.modelmarket.serving.batch;

import io.vertx.core.Future;

/** Something that computes batches, one at a time: in production a worker verticle. */
public interface BatchWorker {

    /**
     * Computes {@code batch} and reports its outputs, in the model's output order, each with {@link
     * Batch#items()} entries in its first dimension. The batcher never hands a worker a second batch
     * before the first one's future completes. A failure fails that batch only.
     */
    Future<BatchOutput> run(Batch batch);
}
