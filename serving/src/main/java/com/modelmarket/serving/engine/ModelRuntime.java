package com.modelmarket.serving.engine;

import com.modelmarket.serving.FineTuneResult;
import com.modelmarket.serving.TrainedArtifact;
import com.modelmarket.serving.TrainingRun;
import com.modelmarket.serving.training.TrainingOptions;
import com.modelmarket.serving.HostConfig;
import com.modelmarket.serving.HostStatus;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ServingConfig;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.host.HostedRuntime;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.store.StoredArtifact;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * Where the code of a model version runs: in sandboxed model-host processes ({@link
 * HostedRuntime}, the default) or inside this JVM ({@link InProcessRuntime}, trusted use
 * only). The engine keeps the batchers, the memory account and the version table; a runtime loads,
 * runs and frees models.
 */
public interface ModelRuntime {

    /**
     * The runtime the configuration asks for: model hosts unless {@code serving.sandbox=off}.
     * Blocking for a second or two (PyTorch, or the sandbox probe): call it off the event loop.
     */
    static ModelRuntime forConfig(Vertx vertx, ServingConfig config) {
        if (config.hosts().sandbox() == HostConfig.Sandbox.OFF) {
            return new InProcessRuntime(vertx, config);
        }
        try {
            return new HostedRuntime(vertx, config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A model version in memory, ready for workers. */
    interface Model {
        ModelKey key();

        /** Frees it; its workers have all stopped. */
        void close();
    }

    /** A worker that can also time batch sizes for its version's batch cap. */
    interface Worker extends BatchWorker {
        Future<BatchCalibration.Result> calibrate(int maxBatchSize, Duration budget);
    }

    /**
     * Verifies the artifact, loads it and runs the manifest's example, checking the outputs against
     * the manifest; fails with {@code ModelRejectedException} naming the check.
     */
    Future<Model> load(ModelKey key, StoredArtifact artifact, ModelManifest manifest);

    Future<Worker> startWorker(Model model);

    /**
     * Fine-tunes a TorchScript artifact where its code may run; see {@link
     * com.modelmarket.serving.ServingEngine#fineTune}.
     */
    Future<FineTuneResult> fineTune(ModelKey baseKey, StoredArtifact base, ModelManifest manifest, FineTuneRows rows,
            FineTuneSettings settings, TrainingOptions options);

    /** Trains a recipe where the tenant's data may be read; see {@link com.modelmarket.serving.ServingEngine#train}. */
    Future<TrainedArtifact> train(TrainingRun run, TrainingOptions options);

    /** Stops a worker; its last batch has returned or been given up. */
    Future<Void> stopWorker(BatchWorker worker);

    /** Lends a spare thread to replace a worker stuck in a forward pass (in-process only). */
    boolean lendSpare(BatchWorker stuck);

    void returnSpare();

    /** Memory a version of {@code owner} costs besides its own bytes when it is the owner's first in memory. */
    long ownerOverheadBytes();

    /** Tells the engine that a model was lost (its host died) and must load again before it serves. */
    void onModelLost(Consumer<Model> listener);

    /** Whether {@code model} is gone (its host died), so that no worker can start on it. */
    default boolean isLost(Model model) {
        return false;
    }

    String device();

    /**
     * How many batches of one version this runtime computes at the same time at most (a model
     * host's compute threads); batches beyond that only queue inside it.
     */
    default int parallelism() {
        return Integer.MAX_VALUE;
    }

    /** The running model hosts, if this runtime has any. */
    default List<HostStatus> hosts() {
        return List.of();
    }

    Future<Void> close();
}
