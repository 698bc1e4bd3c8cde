package com.modelmarket.serving.model;

import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import com.modelmarket.serving.training.ArtifactRejectedException;
import com.modelmarket.serving.training.TrainedModelArchive;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * The platform's own checks of a stored file, made in its JVM before any model host or native
 * code sees the file, by the kind the manifest declares. A file is only ever checked and loaded as
 * that one kind: a TorchScript archive declared a trained model fails the trained-model check (and
 * is never handed to TorchScript's loader), and a trained model declared TorchScript (or not
 * declared) fails the TorchScript check, so TorchScript never skips its checks.
 */
public final class ArtifactCheck {

    private ArtifactCheck() {}

    /**
     * TorchScript: {@link TorchScriptArchive} and, with {@code codeCheck}, {@link TorchScriptCode}.
     * A trained model: its archive's structure and metadata ({@link TrainedModelArchive#check},
     * {@link Check#FORMAT}), and its features and outputs against the manifest ({@link
     * Check#SCHEMA}).
     *
     * @throws ModelRejectedException naming the failed check and why
     */
    public static void check(Path file, ModelManifest manifest, boolean codeCheck) {
        switch (manifest.artifact()) {
            case TORCHSCRIPT -> {
                TorchScriptArchive.check(file);
                if (codeCheck) {
                    TorchScriptCode.check(file);
                }
            }
            case TRAINED_MODEL -> checkTrainedModel(file, manifest);
        }
    }

    private static void checkTrainedModel(Path file, ModelManifest manifest) {
        TrainedModelArchive.Header header;
        try {
            header = TrainedModelArchive.check(file);
        } catch (ArtifactRejectedException e) {
            throw new ModelRejectedException(Check.FORMAT, "not a valid trained model archive: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ModelRejectedException(Check.FORMAT, "the archive cannot be read: " + e, e);
        }
        trainedModelSchemaProblem(manifest, header.featureCount(), header.outputCount()).ifPresent(problem -> {
            throw new ModelRejectedException(Check.SCHEMA, problem);
        });
    }

    /**
     * Why a manifest does not describe a trained model of {@code features} inputs and {@code
     * outputs} values per row, if it does not: it must declare exactly one input, FP32 {@code [-1,
     * features]}, and one output, FP32 {@code [-1, outputs]}, as {@code TrainedModel.manifestJson}
     * writes them.
     */
    static Optional<String> trainedModelSchemaProblem(ModelManifest manifest, int features, int outputs) {
        if (manifest.inputs().size() != 1 || manifest.outputs().size() != 1) {
            return Optional.of("a trained model takes one input and returns one output; the manifest declares "
                    + manifest.inputs().size() + " input(s) and " + manifest.outputs().size() + " output(s)");
        }
        TensorSpec in = manifest.inputs().get(0);
        if (!fits(in, features)) {
            return Optional.of("input " + in + " does not fit the trained model, which takes FP32[-1, "
                    + features + "] (" + features + " features)");
        }
        TensorSpec out = manifest.outputs().get(0);
        if (!fits(out, outputs)) {
            return Optional.of("output " + out + " does not fit the trained model, which returns FP32[-1, "
                    + outputs + "]");
        }
        return Optional.empty();
    }

    private static boolean fits(TensorSpec spec, int width) {
        return spec.datatype() == DataType.FP32 && Arrays.equals(spec.shape(), new long[] {TensorSpec.ANY, width});
    }
}
