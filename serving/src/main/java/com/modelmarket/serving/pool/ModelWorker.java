package com.modelmarket.serving.pool;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.batch.Batch;
import com.modelmarket.serving.batch.BatchOutput;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.model.LoadedModel;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TensorSpec;
import com.modelmarket.serving.model.TorchErrors;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.util.List;
import java.util.Optional;

/**
 * A worker verticle (deployed with {@code ThreadingModel.WORKER}) owning one DJL predictor. Vert.x
 * runs a worker verticle's tasks one at a time, so the predictor, which is not thread-safe, is
 * never used concurrently; it is created in {@link #start()} and closed in {@link #stop()}, both
 * on the verticle's context, after any batch still running.
 */
final class ModelWorker extends VerticleBase implements BatchWorker {

    private final ModelKey key;
    private final LoadedModel model;
    private Predictor<NDList, NDList> predictor;

    ModelWorker(ModelKey key, LoadedModel model) {
        this.key = key;
        this.model = model;
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

    private void compute(Batch batch, Promise<BatchOutput> promise) {
        long start = System.nanoTime();
        try {
            List<Tensor> outputs = model.run(predictor, batch.mergedInputs());
            checkOutputs(outputs);
            promise.complete(new BatchOutput(outputs, System.nanoTime() - start));
        } catch (Throwable t) { // NOPMD: the batch must be answered whatever happened
            renewPredictor();
            promise.fail(t instanceof InferenceFailedException
                    ? t
                    : new InferenceFailedException(key + ": the model failed on a batch of " + batch.items()
                            + " item(s): " + TorchErrors.brief(t), t));
            if (t instanceof VirtualMachineError e) {
                throw e;
            }
        }
    }

    /** A model that breaks its manifest at run time fails its batch rather than its callers' parsers. */
    private void checkOutputs(List<Tensor> outputs) {
        List<TensorSpec> declared = model.manifest().outputs();
        if (outputs.size() != declared.size()) {
            throw new InferenceFailedException(key + ": the model returned " + outputs.size()
                    + " output(s), its manifest declares " + declared.size(), null);
        }
        for (int i = 0; i < outputs.size(); i++) {
            Optional<String> mismatch = declared.get(i).mismatch(outputs.get(i));
            if (mismatch.isPresent()) {
                throw new InferenceFailedException(
                        key + ": the model broke its manifest: output " + mismatch.get(), null);
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
}
