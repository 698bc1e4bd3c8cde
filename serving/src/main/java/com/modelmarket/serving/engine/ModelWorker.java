package com.modelmarket.serving.engine;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.batch.Batch;
import com.modelmarket.serving.batch.BatchOutput;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.model.LoadedModel;
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
 * A worker verticle (deployed with {@code ThreadingModel.WORKER}) owning one DJL predictor. Vert.x
 * runs a worker verticle's tasks one at a time, so the predictor, which is not thread-safe, is
 * never used concurrently; it is created in {@link #start()} and closed in {@link #stop()}, both
 * on the verticle's context, after any batch still running.
 *
 * <p>Every forward pass holds one of the engine's compute permits, so no more passes run at once
 * than there are worker threads, although the thread pool has spare threads for stuck workers. A
 * worker declared stuck gives its permit back through {@link #abandon()}, from another thread; the
 * pass, when it ends, then has nothing to give back.
 */
final class ModelWorker extends VerticleBase implements ModelRuntime.Worker {

    private final ModelKey key;
    private final LoadedModel model;
    private final Semaphore computePermits;
    private final AtomicBoolean holdsPermit = new AtomicBoolean();
    private Predictor<NDList, NDList> predictor;

    ModelWorker(ModelKey key, LoadedModel model, Semaphore computePermits) {
        this.key = key;
        this.model = model;
        this.computePermits = computePermits;
    }

    @Override
    public Future<?> start() {
        predictor = model.newPredictor();
        return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
        if (predictor != null) {
            predictor.close();
            predictor = null;
        }
        return Future.succeededFuture();
    }

    @Override
    public Future<BatchOutput> run(Batch batch) {
        Promise<BatchOutput> promise = Promise.promise();
        context.runOnContext(v -> compute(batch, promise));
        return promise.future();
    }

    /**
     * Times synthetic batches of 1, 2, 4, ... items on this worker's predictor, on its thread,
     * before the worker takes real batches.
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
                renewPredictorQuietly();
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
        model.run(predictor, inputs);
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
            List<Tensor> outputs = model.run(predictor, batch.mergedInputs());
            OutputCheck.check(key, model.manifest(), outputs);
            releasePermit();
            promise.complete(new BatchOutput(outputs, System.nanoTime() - start));
        } catch (Throwable t) { // NOPMD: the batch must be answered whatever happened
            releasePermit();
            Throwable cause = t;
            if (!(t instanceof Error)) {
                // an Error breaks the worker: it is stopped, and its predictor closed, as a whole
                try {
                    renewPredictor();
                } catch (RuntimeException | Error e) { // NOPMD: reported through the batch
                    cause = new BrokenException(key + ": the predictor could not be renewed: " + e, t);
                }
            }
            promise.fail(t instanceof InferenceFailedException && cause == t
                    ? t
                    : new InferenceFailedException(key + ": the model failed on a batch of " + batch.items()
                            + " item(s): " + TorchErrors.brief(t), cause));
            if (t instanceof VirtualMachineError e) {
                throw e;
            }
        }
    }

    /** A predictor that saw an exception is replaced, so the next batch starts clean. */
    private void renewPredictor() {
        try {
            predictor.close();
        } finally {
            predictor = model.newPredictor();
        }
    }

    private void renewPredictorQuietly() {
        try {
            renewPredictor();
        } catch (RuntimeException e) {
            predictor = null; // the batcher will find this worker broken on its first batch
        }
    }
}
