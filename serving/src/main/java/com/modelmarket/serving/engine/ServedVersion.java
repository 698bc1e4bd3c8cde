package com.modelmarket.serving.engine;

import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelStatus;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.batch.Batcher;
import com.modelmarket.serving.metrics.ModelMetrics;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.store.StoredArtifact;
import io.vertx.core.Future;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * One model version served by the engine: what it was registered with, its {@link Batcher}, and
 * its {@link VersionState}, changed only through the transition methods below (each refuses a
 * move its state does not allow with {@link IllegalStateException}). Not thread-safe: the state
 * and the model are guarded by the engine's lock.
 */
final class ServedVersion {

    final ModelKey key;
    final StoredArtifact artifact;
    final ModelManifest manifest;
    final PoolConfig config;
    final long memoryBytes;
    final ModelMetrics metrics;
    final Batcher batcher;
    /** Workers started for this version and not stopped yet. */
    final Set<BatchWorker> deployments = ConcurrentHashMap.newKeySet();
    /** Undeployments of workers taken out of service, pending until their last batch returns. */
    final Set<Future<Void>> stopping = ConcurrentHashMap.newKeySet();

    private VersionState state = VersionState.REGISTERED;
    /** The model being loaded or in memory: set exactly while LOADING or LOADED. */
    private Future<ModelRuntime.Model> model;
    /** Completes when the first load and the minimum workers are done. */
    Future<LoadReport> firstLoad;
    LoadReport lastLoad;
    /** Whether a worker has been handed the one batch size calibration of this version. */
    final AtomicBoolean calibrationStarted = new AtomicBoolean();

    ServedVersion(ModelKey key, StoredArtifact artifact, ModelManifest manifest, PoolConfig config,
            ModelMetrics metrics, Function<ServedVersion, Batcher> batcherFor) {
        this.key = key;
        this.artifact = artifact;
        this.manifest = manifest;
        this.config = config;
        this.memoryBytes = config.memoryBytes() > 0 ? config.memoryBytes()
                : MemoryAccount.estimateBytes(manifest.artifact(), artifact.sizeBytes());
        this.metrics = metrics;
        this.batcher = batcherFor.apply(this);
    }

    VersionState state() {
        return state;
    }

    boolean loaded() {
        return state == VersionState.LOADED;
    }

    /** Whether its model is loading or loaded, so that asking for it again starts nothing. */
    boolean inMemoryOrLoading() {
        return state == VersionState.LOADING || state == VersionState.LOADED;
    }

    /** The model being loaded or in memory; only while {@link #inMemoryOrLoading()}. */
    Future<ModelRuntime.Model> model() {
        require(inMemoryOrLoading(), "has no model");
        return model;
    }

    /** Whether {@code loading} is still the load this version waits for (not superseded or dropped). */
    boolean awaits(Future<ModelRuntime.Model> loading) {
        return state == VersionState.LOADING && model == loading;
    }

    /** Whether {@code m} is this version's current model, so that workers may be started on it. */
    boolean serves(ModelRuntime.Model m) {
        return inMemoryOrLoading() && model.succeeded() && model.result() == m;
    }

    /** REGISTERED or UNLOADED → LOADING. Whether it is a cold start: not its first load. */
    boolean startLoading(Future<ModelRuntime.Model> loading) {
        boolean cold = state == VersionState.UNLOADED;
        move(VersionState.LOADING);
        model = loading;
        return cold;
    }

    /** LOADING → LOADED. */
    void finishLoading(LoadReport report) {
        move(VersionState.LOADED);
        lastLoad = report;
    }

    /** LOADING → UNLOADED: the load failed, or the runtime lost the model before it was marked loaded. */
    void dropLoading() {
        move(VersionState.UNLOADED);
        model = null;
    }

    /** LOADED → UNLOADED (idle, evicted, or lost): returns the model, for the caller to free. */
    ModelRuntime.Model unload() {
        require(state == VersionState.LOADED, "is not loaded");
        ModelRuntime.Model m = model.result();
        move(VersionState.UNLOADED);
        model = null;
        return m;
    }

    /**
     * Any state but RETIRED → RETIRED. Returns the model if it was LOADED, for the caller to free; a
     * load still running frees its own model when it ends ({@link #awaits} is then false).
     */
    ModelRuntime.Model retire() {
        ModelRuntime.Model m = state == VersionState.LOADED ? model.result() : null;
        move(VersionState.RETIRED);
        model = null;
        return m;
    }

    ModelStatus status() {
        return new ModelStatus(key, state.reported(), batcher.workers(), batcher.busyWorkers(),
                batcher.queuedItems(), lastLoad, batcher.batchCap(), batcher.stuckWorkers(),
                metrics.workersReplaced());
    }

    private void move(VersionState next) {
        require(state.allows(next), "cannot go from " + state + " to " + next);
        state = next;
    }

    private void require(boolean condition, String what) {
        if (!condition) {
            throw new IllegalStateException(key + " " + what + " (state " + state + ")");
        }
    }
}
