package com.modelmarket.serving.engine;

import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.batch.Batch;
import com.modelmarket.serving.batch.BatchOutput;
import com.modelmarket.serving.model.ModelRunner;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TorchErrors;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A worker verticle (deployed with {@code ThreadingModel.WORKER}) running its version's batches on
 * the version's shared {@link ModelRunner}, one at a time: Vert.x runs a worker verticle's tasks
 * in order. The runner keeps what is not thread-safe (a DJL predictor per concurrent call) to
 * itself, and replaces a predictor that saw an exception.
 *
 * <p>Every forward pass holds one of the engine's compute permits, so no more passes run at once
 * than there are worker threads, although the thread pool has spare threads for stuck workers. A
 * worker declared stuck gives its permit back through {@link #abandon()}, from another thread; the
 * pass, when it ends, then has nothing to give back.
 */
final class ModelWorker extends VerticleBase implements ModelRuntime.Worker {

    private final ModelKey key;
    private final ModelRunner model;
    private final Semaphore computePermits;
    private final AtomicBoolean holdsPermit = new AtomicBoolean();

    ModelWorker(ModelKey key, ModelRunner model, Semaphore computePermits) {
        this.key = key;
        this.model = model;
        this.computePermits = computePermits;
    }

    @Override
    public Future<BatchOutput> run(Batch batch) {
        Promise<BatchOutput> promise = Promise.promise();
        context.runOnContext(v -> compute(batch, promise));
        return promise.future();
    }

    /**
     * Times synthetic batches of 1, 2, 4, ... items on this worker's thread, before the worker
     * takes real batches.
     */
    @Override
    public Future<BatchCalibration.Result> calibrate(int maxBatchSize, Duration budget) {
        Promise<BatchCalibration.Result> promise = Promise.promise();
        context.runOnContext(v -> {
            acquirePermit();
            try {
                promise.complete(BatchCalibration.run(this::timeSynthetic, maxBatchSize, budget,
                        System::nanoTime));
            } catch (Throwable t) { // NOPMD: a model that fails on zeros keeps the configured cap
                promise.fail(t);
            } finally {
                releasePermit();
            }
        });
        return promise.future();
    }

    private long timeSynthetic(int size) throws Exception {
        List<Tensor> inputs = BatchCalibration.syntheticInputs(model.manifest(), size)
                .orElseThrow(() -> new IllegalStateException("no synthetic input for " + key));
        long start = System.nanoTime();
        model.run(inputs);
        return System.nanoTime() - start;
    }

    /** Gives back the compute permit of a pass declared stuck, so that a replacement may compute. */
    void abandon() {
        releasePermit();
    }

    private void acquirePermit() {
        computePermits.acquireUninterruptibly();
        holdsPermit.set(true);
    }

    private void releasePermit() {
        if (holdsPermit.compareAndSet(true, false)) {
            computePermits.release();
        }
    }

    private void compute(Batch batch, Promise<BatchOutput> promise) {
        acquirePermit();
        long start = System.nanoTime();
        try {
            List<Tensor> outputs = model.run(batch.mergedInputs());
            OutputCheck.check(key, model.manifest(), outputs);
            releasePermit();
            promise.complete(new BatchOutput(outputs, System.nanoTime() - start));
        } catch (Throwable t) { // NOPMD: the batch must be answered whatever happened
            releasePermit();
            // an Error in the cause breaks the worker: the batcher stops it and starts another
            promise.fail(t instanceof InferenceFailedException
                    ? t
                    : new InferenceFailedException(key + ": the model failed on a batch of " + batch.items()
                            + " item(s): " + TorchErrors.brief(t), t));
            if (t instanceof VirtualMachineError e) {
                throw e;
            }
        }
    }
}
