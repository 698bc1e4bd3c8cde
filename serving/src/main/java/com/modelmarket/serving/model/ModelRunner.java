package com.modelmarket.serving.model;

import ai.djl.Device;
import java.nio.file.Path;
import java.util.List;

/**
 * A model version in memory, of either {@link ArtifactKind}, as the serving paths run it: the
 * in-process workers and the model host. One runner is shared by all the workers of its version:
 * {@link #run} may be called from several threads at once.
 */
public interface ModelRunner extends AutoCloseable {

    /**
     * Loads {@code file} as the kind {@code manifest} declares, after the platform's checks of the
     * file ({@link ArtifactCheck}) have passed: TorchScript into DJL's PyTorch engine ({@link
     * TorchScriptRunner}), a trained model into the block its recipe defines ({@link
     * TrainedModelRunner}, on the engine's default device).
     */
    static ModelRunner load(Path file, ModelManifest manifest, Device device) throws Exception {
        return switch (manifest.artifact()) {
            case TORCHSCRIPT -> new TorchScriptRunner(LoadedModel.load(file, manifest, device));
            case TRAINED_MODEL -> TrainedModelRunner.load(file, manifest);
        };
    }

    ModelManifest manifest();

    /**
     * Runs one forward pass. Inputs are in the manifest's input order; outputs come back in the
     * model's order, named after the manifest's outputs.
     */
    List<Tensor> run(List<Tensor> inputs) throws Exception;

    /** Frees the model; calls still running on it may fail. */
    @Override
    void close();
}
