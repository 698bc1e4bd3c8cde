package com.modelmarket.serving.model;

import ai.djl.Device;
import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import java.util.List;
import java.util.Optional;

/**
 * Loads a model only after it passes every check, in order: the stored file still has its hash
 * ({@link Check#HASH}); it is an archive of the kind its manifest declares ({@link Check#FORMAT},
 * and for a trained model its features and outputs fit the manifest, {@link Check#SCHEMA}: see
 * {@link ArtifactCheck}); it loads ({@link Check#LOAD}); the manifest's example runs ({@link
 * Check#EXAMPLE}); and its outputs match the declared outputs in number, type, shape and label
 * count ({@link Check#SCHEMA}). The example run doubles as the warm-up of the loaded model.
 * Blocking: call it from a worker thread.
 */
public final class ModelValidator {

    private final Device device;

    public ModelValidator(Device device) {
        this.device = device;
    }

    /**
     * @throws ModelRejectedException naming the failed check and why
     */
    public ModelRunner load(StoredArtifact artifact, ModelManifest manifest) {
        ModelStore.verify(artifact);
        ArtifactCheck.check(artifact.path(), manifest, false);
        ModelRunner model;
        try {
            model = ModelRunner.load(artifact.path(), manifest, device);
        } catch (ModelRejectedException e) {
            throw e;
        } catch (Exception e) {
            throw new ModelRejectedException(Check.LOAD, loadFailure(manifest, e), e);
        }
        try {
            List<Tensor> outputs;
            try {
                outputs = model.run(manifest.example());
            } catch (Exception e) {
                throw new ModelRejectedException(Check.EXAMPLE, "the example input fails: " + TorchErrors.brief(e), e);
            }
            schemaProblem(manifest, outputs).ifPresent(problem -> {
                throw new ModelRejectedException(Check.SCHEMA, problem);
            });
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** What a failed load says, by the kind of file. */
    public static String loadFailure(ModelManifest manifest, Exception e) {
        return switch (manifest.artifact()) {
            case TORCHSCRIPT -> "PyTorch cannot load it: " + TorchErrors.brief(e);
            // the archive's own reason is on top; its cause (a DJL or stream error) says less
            case TRAINED_MODEL -> "the trained model cannot be loaded: "
                    + (e.getMessage() != null ? e.getMessage() : e.toString());
        };
    }

    /** Why outputs computed for {@code manifest.example()} break the manifest, if they do. */
    public static Optional<String> schemaProblem(ModelManifest manifest, List<Tensor> outputs) {
        List<TensorSpec> declared = manifest.outputs();
        if (outputs.size() != declared.size()) {
            return Optional.of("the model returns " + outputs.size() + " output(s), the manifest"
                    + " declares " + declared.size());
        }
        for (int i = 0; i < declared.size(); i++) {
            TensorSpec spec = declared.get(i);
            Tensor out = outputs.get(i);
            Optional<String> mismatch = spec.mismatch(out);
            if (mismatch.isPresent()) {
                return Optional.of("output " + mismatch.get());
            }
            if (out.items() != manifest.exampleItems()) {
                return Optional.of("output " + spec.name() + " has " + out.items() + " items for an"
                        + " example of " + manifest.exampleItems() + "; outputs must keep the batch dimension");
            }
            if (!spec.labels().isEmpty() && out.dim(out.rank() - 1) != spec.labels().size()) {
                return Optional.of("output " + spec.name() + " has " + out.dim(out.rank() - 1)
                        + " classes but " + spec.labels().size() + " labels");
            }
        }
        return Optional.empty();
    }
}
