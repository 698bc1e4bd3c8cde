package com.modelmarket.serving.engine;

import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TensorSpec;
import java.util.List;
import java.util.Optional;

/** A model that breaks its manifest at run time fails its batch rather than its callers' parsers. */
public final class OutputCheck {

    private OutputCheck() {}

    public static void check(ModelKey key, ModelManifest manifest, List<Tensor> outputs) {
        List<TensorSpec> declared = manifest.outputs();
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
}
