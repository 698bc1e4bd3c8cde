package com.modelmarket.serving;

import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.store.StoredArtifact;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import com.modelmarket.serving.training.TrainingOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Serves model versions with a worker pool and dynamic batching: TorchScript archives, and
 * archives made by the platform's trainer ({@code training.TrainedModel}), each loaded as the kind
 * its manifest's {@code artifact} declares ({@link com.modelmarket.serving.model.ArtifactKind}).
 * Knows nothing of HTTP or tenants. Every method returns at once and is safe to call from an event loop; futures
 * complete on the caller's context. Failures are {@link ServingException} subtypes.
 */
public interface ServingEngine {

    /**
     * An engine on DJL's PyTorch engine. Starting PyTorch takes a second or two; it happens on a
     * worker thread.
     */
    static Future<ServingEngine> create(Vertx vertx, ServingConfig config, MeterRegistry registry) {
        return vertx.executeBlocking(
                () -> new com.modelmarket.serving.engine.DjlServingEngine(vertx, config, registry), false);
    }

    /**
     * Registers a version, validates and loads it, and starts its minimum workers. Loading the same
     * key with the same artifact again returns the existing report.
     *
     * @return fails with {@link ModelRejectedException} (which check, and why)
     */
    Future<LoadReport> load(
            ModelKey key, StoredArtifact artifact, ModelManifest manifest, PoolConfig config);

    /**
     * Runs a request, merged with others into batches. A registered version that was unloaded is
     * loaded first (a cold start, reported in the facts).
     */
    Future<InferenceResult> infer(ModelKey key, InferenceRequest request);

    /**
     * Fine-tunes a TorchScript artifact on labelled rows, where its owner's code may run: in a job
     * host of {@code baseKey.owner()} of its own, a fresh sandbox that ends with the job (with
     * serving.sandbox=off, in this JVM: trusted use only). The version need not be loaded. From
     * {@code options}: the time limit (the run stops between two steps past it; if it overruns the
     * limit by the kill grace, a forward pass that does not return, its process is killed), the
     * cancellation (polled every 200 ms on an event loop: keep it cheap; a run that has not stopped
     * 1.5 s after it is killed), per-epoch progress, the CPU priority and PyTorch threads; its
     * held-out fraction is the settings' own.
     *
     * @return the tuned TorchScript file (the caller's to store, load like an upload, and delete)
     *     and the base and tuned held-out metrics; fails with {@code FineTuneRefusedException} (the
     *     model is not tabular, or the rows do not fit it), {@code TrainingFailedException}
     *     (cancelled, time limit, diverged, engine error), {@link OverloadedException} or {@link
     *     ModelRejectedException} (the artifact fails the platform's checks)
     */
    Future<FineTuneResult> fineTune(ModelKey baseKey, StoredArtifact base, ModelManifest manifest, FineTuneRows rows,
            FineTuneSettings settings, TrainingOptions options);

    /**
     * Trains a recipe on a tenant's CSV ({@code training.RecipeTrainer}), in a job host of its own:
     * a sandboxed process at {@code options.priority()} (SCHED_IDLE by default) that shares nothing
     * with this JVM but the CPU, and ends with the job (with serving.sandbox=off, on a thread of
     * this JVM). Cancellation, time limit and progress as for {@link #fineTune}.
     *
     * @return the archive, its manifest and the run's report; fails with {@code
     *     TrainingFailedException} (cancelled, time limit, diverged, engine error), {@link
     *     IllegalArgumentException} (the file does not read as the dataset it was), {@link
     *     OverloadedException} (no process could start)
     */
    Future<TrainedArtifact> train(TrainingRun run, TrainingOptions options);

    /** Stops accepting requests for the version, drains it, frees it and forgets it. */
    Future<Void> unload(ModelKey key);

    Optional<ModelStatus> status(ModelKey key);

    /**
     * Whether the version is registered with this engine: {@code status(key).isPresent()}, without
     * building its status (the inference path asks on every call).
     */
    default boolean isRegistered(ModelKey key) {
        return status(key).isPresent();
    }

    List<ModelStatus> models();

    /** The running model hosts (empty when models run in this JVM). */
    List<HostStatus> hosts();

    /** Called once for every finished request, on the caller's context, before its future completes. */
    void addRequestListener(Consumer<RequestFacts> listener);

    /**
     * Refuses new requests, lets queued and running work finish within the shutdown timeout, fails
     * what is left with {@link OverloadedException}, and frees every model. Does not close Vert.x.
     */
    Future<Void> close();
}
