package com.modelmarket.marketplace.catalog;

import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Validates an uploaded artifact against its manifest with the serving engine (TorchScript, not a
 * pickle; loads; the example runs and matches the schema) and measures it: load time and the
 * latency of a single item (median of a few warm runs).
 */
public final class ArtifactValidator {

    private static final int LATENCY_RUNS = 5;

    private final ServingEngine engine;
    private final ModelStore store;
    private final PoolConfig pool;

    public ArtifactValidator(ServingEngine engine, ModelStore store, PoolConfig pool) {
        this.pool = pool;
        this.engine = engine;
        this.store = store;
    }

    /** What the platform measured of an accepted version. */
    public record Measured(StoredArtifact artifact, ModelManifest manifest, LoadReport load, long singleItemLatencyMicros) {
    }

    /** The serving key of a version; the publisher's tenant decides which model host runs its code. */
    public static ModelKey keyOf(UUID publisherTenantId, UUID modelId, UUID versionId) {
        return new ModelKey(publisherTenantId.toString(), modelId.toString(), versionId.toString());
    }

    public ModelStore store() {
        return store;
    }

    public Future<Measured> validate(UUID publisherTenantId, UUID modelId, UUID versionId, StoredArtifact artifact, JsonObject manifestJson) {
        ModelManifest manifest = ModelManifest.fromJson(manifestJson); // ModelRejectedException(MANIFEST) → 422
        ModelKey key = keyOf(publisherTenantId, modelId, versionId);
        return engine.load(key, artifact, manifest, pool)
                .compose(report -> measureLatency(key, manifest, new ArrayList<>(), 0)
                        .map(latencies -> new Measured(artifact, manifest, report, median(latencies))));
    }

    private Future<List<Long>> measureLatency(ModelKey key, ModelManifest manifest, List<Long> so, int run) {
        if (run == LATENCY_RUNS) {
            return Future.succeededFuture(so);
        }
        List<Tensor> one = manifest.example().stream().map(t -> t.slice(0, 1)).toList();
        long t0 = System.nanoTime();
        return engine.infer(key, new InferenceRequest(one, List.of(), null)).compose(result -> {
            so.add((System.nanoTime() - t0) / 1000);
            return measureLatency(key, manifest, so, run + 1);
        });
    }

    private static long median(List<Long> values) {
        long[] sorted = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
