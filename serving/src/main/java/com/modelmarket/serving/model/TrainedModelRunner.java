package com.modelmarket.serving.model;

import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import com.modelmarket.serving.training.TrainedModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A trained model ({@link ArtifactKind#TRAINED_MODEL}) behind the manifest's one input and one
 * output: a {@code [B, N]} FP32 batch of raw feature rows in, {@link TrainedModel#predict}, a
 * {@code [B, K]} FP32 batch out, named after the manifest's output. {@link TrainedModel} runs one
 * call at a time, so concurrent calls on one runner wait for each other.
 */
final class TrainedModelRunner implements ModelRunner {

    private final TrainedModel model;
    private final ModelManifest manifest;

    private TrainedModelRunner(TrainedModel model, ModelManifest manifest) {
        this.model = model;
        this.manifest = manifest;
    }

    /** Loads the archive and refuses it ({@link Check#SCHEMA}) if it does not fit the manifest. */
    static TrainedModelRunner load(Path file, ModelManifest manifest) throws IOException {
        TrainedModel model = TrainedModel.load(file);
        var problem = ArtifactCheck.trainedModelSchemaProblem(manifest, model.featureNames().size(),
                model.outputCount());
        if (problem.isPresent()) {
            model.close();
            throw new ModelRejectedException(Check.SCHEMA, problem.get());
        }
        return new TrainedModelRunner(model, manifest);
    }

    @Override
    public ModelManifest manifest() {
        return manifest;
    }

    @Override
    public List<Tensor> run(List<Tensor> inputs) {
        int n = model.featureNames().size();
        int k = model.outputCount();
        Tensor x = inputs.size() == 1 ? inputs.get(0) : null;
        if (x == null || x.datatype() != DataType.FP32 || x.rank() != 2 || x.dim(1) != n) {
            throw new IllegalArgumentException("a trained model takes one FP32 tensor of shape [-1, " + n + "]");
        }
        int items = Math.toIntExact(x.dim(0));
        float[] flat = x.toFloats();
        float[][] rows = new float[items][n];
        for (int r = 0; r < items; r++) {
            System.arraycopy(flat, r * n, rows[r], 0, n);
        }
        float[][] predicted = model.predict(rows);
        float[] out = new float[items * k];
        for (int r = 0; r < items; r++) {
            System.arraycopy(predicted[r], 0, out, r * k, k);
        }
        return List.of(Tensor.ofFloats(manifest.outputs().get(0).name(), new long[] {items, k}, out));
    }

    @Override
    public void close() {
        model.close();
    }
}
