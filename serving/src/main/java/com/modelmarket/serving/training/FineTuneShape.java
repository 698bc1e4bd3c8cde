package com.modelmarket.serving.training;

import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.TensorSpec;
import java.util.List;

/**
 * What fine-tuning needs of a model: one FP32 {@code [-1, features]} input and one FP32 {@code [-1,
 * outputs]} output; a classifier when the output has {@code labels} (one per output column), a
 * regressor when it has none and one column. Anything else is refused: the platform cannot tell
 * what another model's outputs mean, so it cannot choose a loss for it.
 */
record FineTuneShape(int features, int outputs, List<String> labels) {

    boolean classification() {
        return !labels.isEmpty();
    }

    /** @throws FineTuneRefusedException saying which part of the manifest does not fit */
    static FineTuneShape of(ModelManifest manifest) {
        if (manifest.inputs().size() != 1 || manifest.outputs().size() != 1) {
            throw new FineTuneRefusedException("only a model with one input and one output can be fine-tuned; "
                    + manifest.name() + " declares " + manifest.inputs().size() + " input(s) and "
                    + manifest.outputs().size() + " output(s)");
        }
        TensorSpec in = manifest.inputs().get(0);
        TensorSpec out = manifest.outputs().get(0);
        int features = width(in, "input");
        int outputs = width(out, "output");
        if (!out.labels().isEmpty() && out.labels().size() != outputs) {
            throw new FineTuneRefusedException("output " + out.name() + " has " + outputs + " columns but "
                    + out.labels().size() + " labels");
        }
        if (out.labels().isEmpty() && outputs != 1) {
            throw new FineTuneRefusedException("output " + out.name() + " has " + outputs + " columns and no labels:"
                    + " only a classifier (labels) or a one-value regressor can be fine-tuned");
        }
        return new FineTuneShape(features, outputs, out.labels());
    }

    private static int width(TensorSpec spec, String what) {
        long[] shape = spec.shape();
        if (spec.datatype() != DataType.FP32 || shape.length != 2 || shape[0] != TensorSpec.ANY || shape[1] < 1
                || shape[1] > 1_000_000) {
            throw new FineTuneRefusedException("only tabular models can be fine-tuned: " + what + " " + spec
                    + " is not FP32[-1, N]");
        }
        return (int) shape[1];
    }
}
