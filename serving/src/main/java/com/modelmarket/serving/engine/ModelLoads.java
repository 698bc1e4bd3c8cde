package com.modelmarket.serving.engine;

import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.batch.BatchWorker;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the engine's model versions into memory and takes them out again, while they stay
 * registered: reserves room in the {@link MemoryAccount} (unloading idle least-recently-used
 * versions to make it), loads through the {@link ModelRuntime}, records the finished load on the
 * version and its batcher, and unloads a version's model, stopping its workers.
 *
 * <p>Guarded by the engine's lock: called with it held, and a load's completion takes it itself.
 */
final class ModelLoads {

    private static final Logger LOG = LoggerFactory.getLogger(DjlServingEngine.class);

    private final Object lock;
    private final ModelRuntime runtime;
    private final MemoryAccount memory;
    private final VersionWorkers workers;

    /** @param lock the engine, whose lock guards the versions and the memory account */
    ModelLoads(Object lock, ModelRuntime runtime, MemoryAccount memory, VersionWorkers workers) {
        this.lock = lock;
        this.runtime = runtime;
        this.memory = memory;
        this.workers = workers;
    }

    /**
     * The version's model, loading it (and making room for it among {@code registered}) if it is
     * not in memory.
     */
    Future<ModelRuntime.Model> ensureLoaded(ServedVersion v, Collection<ServedVersion> registered) {
        if (v.inMemoryOrLoading()) {
            return v.model();
        }
        try {
            memory.reserve(v, registered, this::evict);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        long start = System.nanoTime();
        Future<ModelRuntime.Model> loading = runtime.load(v.key, v.artifact, v.manifest);
        boolean cold = v.startLoading(loading);
        loading.onComplete(ar -> {
            synchronized (lock) {
                if (!v.awaits(loading)) { // unloaded, lost or released while loading
                    if (ar.succeeded()) {
                        ar.result().close();
                    }
                    return;
                }
                if (ar.failed()) {
                    v.dropLoading();
                    memory.discharge(v);
                    return;
                }
                long nanos = System.nanoTime() - start;
                v.finishLoading(new LoadReport(v.key, v.artifact.sha256(), v.artifact.sizeBytes(),
                        Duration.ofNanos(nanos), v.memoryBytes, runtime.device()));
                v.metrics.load(nanos, cold);
                v.batcher.modelLoaded();
                LOG.info("{} {} in {} ms ({} bytes)", cold ? "cold-started" : "loaded", v.key,
                        nanos / 1_000_000, v.artifact.sizeBytes());
            }
        });
        return loading;
    }

    /** Frees a version's model (it stays registered; the next request reloads it). */
    void unloadModel(ServedVersion v, List<BatchWorker> idle) {
        ModelRuntime.Model model = v.unload();
        memory.discharge(v);
        workers.undeploy(v, idle).compose(x -> workers.stuckStopped(v))
                .onComplete(ar -> VersionWorkers.closeUnlessStuck(v, model, ar));
    }

    /** The memory account's evictor: unloads an idle version unless it turned out busy. */
    private boolean evict(ServedVersion victim) {
        List<BatchWorker> idle = victim.batcher.retireAll();
        if (idle == null) {
            return false;
        }
        LOG.info("unloading least recently used {} to make room", victim.key);
        unloadModel(victim, idle);
        return true;
    }
}
