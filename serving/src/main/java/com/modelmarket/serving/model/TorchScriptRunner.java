package com.modelmarket.serving.model;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A TorchScript model shared by its callers. A DJL {@link Predictor} is not thread-safe, so each
 * call borrows one from a pool of idle predictors (making one when none is idle) and gives it back
 * when it returns: the pool holds as many predictors as calls have run at once. A predictor that
 * saw an exception is closed rather than reused, so the next call starts clean.
 */
final class TorchScriptRunner implements ModelRunner {

    private final LoadedModel model;
    private final ConcurrentLinkedQueue<Predictor<NDList, NDList>> idle = new ConcurrentLinkedQueue<>();

    TorchScriptRunner(LoadedModel model) {
        this.model = model;
    }

    @Override
    public ModelManifest manifest() {
        return model.manifest();
    }

    @Override
    public List<Tensor> run(List<Tensor> inputs) throws Exception {
        Predictor<NDList, NDList> predictor = idle.poll();
        if (predictor == null) {
            predictor = model.newPredictor();
        }
        List<Tensor> outputs;
        try {
            outputs = model.run(predictor, inputs);
        } catch (Exception | Error e) {
            predictor.close();
            throw e;
        }
        idle.add(predictor);
        return outputs;
    }

    @Override
    public void close() {
        for (Predictor<NDList, NDList> p = idle.poll(); p != null; p = idle.poll()) {
            p.close();
        }
        model.close();
    }
}
