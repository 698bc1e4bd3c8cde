package com.modelmarket.serving.engine;

import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.batch.Batcher;
import com.modelmarket.serving.metrics.ModelMetrics;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.store.StoredArtifact;
import io.vertx.core.Future;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** One registered model version inside the engine. Mutable fields are guarded by the engine. */
final class ServedVersion {

    final ModelKey key;
    final StoredArtifact artifact;
    final ModelManifest manifest;
    final PoolConfig config;
    final long memoryBytes;
    final ModelMetrics metrics;
    Batcher batcher;

    /** The model in memory, or being loaded; null when unloaded. */
    Future<ModelRuntime.Model> model;
    /** Completes when the first load and the minimum workers are done. */
    Future<LoadReport> firstLoad;
    LoadReport lastLoad;
    /** False once unloaded explicitly or refused: nothing may start for it any more. */
    boolean registered = true;
    /** Workers started for this version and not stopped yet. */
    final Set<BatchWorker> deployments = ConcurrentHashMap.newKeySet();
    /** Undeployments of workers taken out of service, pending until their last batch returns. */
    final Set<Future<Void>> stopping = ConcurrentHashMap.newKeySet();
    /** Whether a worker has been handed the one batch size calibration of this version. */
    boolean calibrationStarted;

    ServedVersion(ModelKey key, StoredArtifact artifact, ModelManifest manifest, PoolConfig config,
            ModelMetrics metrics) {
        this.key = key;
        this.artifact = artifact;
        this.manifest = manifest;
        this.config = config;
        this.memoryBytes = config.memoryBytes() > 0 ? config.memoryBytes() : artifact.sizeBytes();
        this.metrics = metrics;
    }

    boolean loaded() {
        return model != null && model.succeeded();
    }
}
