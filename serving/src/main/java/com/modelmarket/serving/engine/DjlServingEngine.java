package com.modelmarket.serving.engine;

import com.modelmarket.serving.HostStatus;
import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.InvalidInputException;
import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.FineTuneResult;
import com.modelmarket.serving.TrainedArtifact;
import com.modelmarket.serving.TrainingRun;
import com.modelmarket.serving.training.TrainingOptions;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.model.ArtifactKind;
import com.modelmarket.serving.training.FineTuneRefusedException;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import com.modelmarket.serving.ModelNotLoadedException;
import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import com.modelmarket.serving.ModelStatus;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.RequestOutcome;
import com.modelmarket.serving.ServingConfig;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.batch.Batcher;
import com.modelmarket.serving.metrics.ModelMetrics;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.store.StoredArtifact;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ServingEngine} on DJL's PyTorch engine: one {@link Batcher} per registered model version,
 * a shared memory budget with least-recently-used unloading ({@link MemoryAccount}), and idle
 * scale-down. Where the model code runs is the {@link ModelRuntime}'s business: sandboxed
 * model-host processes, one per publisher ({@code host.HostedRuntime}, the default), or this JVM
 * ({@link InProcessRuntime}, trusted use only); {@link VersionWorkers} starts and stops the
 * workers on it.
 *
 * <p>Versions: each {@link ServedVersion} moves through its {@link VersionState}s only here and in
 * {@link ModelLoads} (loading, unloading to make room or when idle), under the engine's lock; a
 * version is registered while it is in the version table.
 *
 * <p>Faults: in-process, a worker stuck in a forward pass (its batch far past its deadline) gives
 * its compute permit back and keeps a spare thread until the pass returns, while a fresh worker
 * replaces it. In a model host, the host is killed at the deadline plus a grace, which frees the
 * CPU at once; its models count as lost and load again in a fresh host on the next request.
 *
 * <p>Calibration: the first worker of a version times synthetic batches before it takes real ones
 * and sets its batcher's batch cap ({@link BatchCalibration}); once per version, not per reload.
 *
 * <p>Locking: the engine's lock guards the version table, the versions' states and the memory
 * account; it may be held while calling into a batcher, never the other way round.
 */
public final class DjlServingEngine implements ServingEngine, VersionWorkers.Versions {

    /** The named Vert.x worker pool that runs every in-process predictor. */
    public static final String WORKER_POOL = InProcessRuntime.WORKER_POOL;

    private static final Logger LOG = LoggerFactory.getLogger(DjlServingEngine.class);

    private final Vertx vertx;
    private final ServingConfig config;
    private final MeterRegistry registry;
    private final ModelRuntime runtime;
    private final VersionWorkers workers;
    private final MemoryAccount memory;
    private final ModelLoads loads;
    private final RequestListeners listeners = new RequestListeners();
    private final Map<ModelKey, ServedVersion> versions = new HashMap<>();
    private final long sweepTimer;
    private boolean closing;
    private Future<Void> closed;

    /**
     * Starts the runtime the configuration asks for (blocking for a second or two: PyTorch, or the
     * sandbox probe): call it off the event loop.
     */
    public DjlServingEngine(Vertx vertx, ServingConfig config, MeterRegistry registry) {
        this(vertx, config, registry, ModelRuntime.forConfig(vertx, config));
    }

    DjlServingEngine(Vertx vertx, ServingConfig config, MeterRegistry registry, ModelRuntime runtime) {
        this.vertx = vertx;
        this.config = config;
        this.registry = registry;
        this.runtime = runtime;
        this.workers = new VersionWorkers(vertx, runtime, this, config.shutdownTimeout());
        this.memory = new MemoryAccount(config.memoryBudgetBytes(), runtime.ownerOverheadBytes());
        this.loads = new ModelLoads(this, runtime, memory, workers);
        runtime.onModelLost(this::modelLost);
        ModelMetrics.hostGauges(registry, runtime::hosts);
        this.sweepTimer = vertx.setPeriodic(config.idleCheckInterval().toMillis(), id -> sweepIdle());
        LOG.info("serving engine on {}: {} worker thread(s) + {} spare for stuck workers, memory budget {} bytes",
                runtime.device(), config.workerThreads(), config.spareThreads(), config.memoryBudgetBytes());
    }

    // --- ServingEngine --------------------------------------------------------------------------

    @Override
    public synchronized Future<FineTuneResult> fineTune(ModelKey baseKey, StoredArtifact base, ModelManifest manifest,
            FineTuneRows rows, FineTuneSettings settings, TrainingOptions options) {
        if (closing) {
            return Future.failedFuture(shuttingDown());
        }
        if (manifest.artifact() != ArtifactKind.TORCHSCRIPT) {
            return Future.failedFuture(new FineTuneRefusedException("only TorchScript models can be fine-tuned; "
                    + baseKey + " is a platform-trained model: train it again instead"));
        }
        return runtime.fineTune(baseKey, base, manifest, rows, settings, options);
    }

    @Override
    public synchronized Future<TrainedArtifact> train(TrainingRun run, TrainingOptions options) {
        if (closing) {
            return Future.failedFuture(shuttingDown());
        }
        return runtime.train(run, options);
    }

    @Override
    public synchronized Future<LoadReport> load(
            ModelKey key, StoredArtifact artifact, ModelManifest manifest, PoolConfig pool) {
        if (closing) {
            return Future.failedFuture(shuttingDown());
        }
        ServedVersion existing = versions.get(key);
        if (existing != null) {
            return existing.artifact.sha256().equals(artifact.sha256())
                    ? existing.firstLoad
                    : Future.failedFuture(new IllegalStateException(
                            key + " is already loaded from another artifact; unload it first"));
        }
        ModelMetrics metrics = new ModelMetrics(registry, key);
        ServedVersion v = new ServedVersion(key, artifact, manifest, pool, metrics, self -> new Batcher(
                vertx, key, pool, workers.scalerFor(self), metrics, listeners, config.stuckGrace()));
        if (v.memoryBytes > memory.budgetBytes()) {
            v.metrics.close();
            return Future.failedFuture(new ModelRejectedException(Check.MEMORY, "the model needs "
                    + v.memoryBytes + " bytes, the engine's whole budget is " + memory.budgetBytes()));
        }
        v.metrics.gauges(v.batcher::queuedItems, v.batcher::workers, v.batcher::stuckWorkers,
                v.batcher::batchCap);
        versions.put(key, v);
        v.firstLoad = ensureLoaded(v)
                .compose(model -> workers.startMinimum(v, model))
                .map(x -> v.lastLoad)
                .onFailure(err -> forgetAfterFailedLoad(v, err));
        return v.firstLoad;
    }

    @Override
    public Future<InferenceResult> infer(ModelKey key, InferenceRequest request) {
        Context context = vertx.getOrCreateContext();
        ServedVersion v;
        synchronized (this) {
            if (closing) {
                return listeners.refuse(context, key, RequestOutcome.OVERLOADED, shuttingDown());
            }
            v = versions.get(key);
        }
        if (v == null) {
            return listeners.refuse(context, key, RequestOutcome.NOT_LOADED, new ModelNotLoadedException(key));
        }
        List<Tensor> inputs;
        try {
            inputs = RequestCheck.orderedInputs(v.manifest, request);
        } catch (InvalidInputException e) {
            v.metrics.request(RequestOutcome.INVALID, 0, false);
            return listeners.refuse(context, key, RequestOutcome.INVALID, e);
        }
        int items = (int) inputs.get(0).items();
        if (items > v.config.maxQueue()) {
            v.metrics.request(RequestOutcome.INVALID, 0, false);
            return listeners.refuse(context, key, RequestOutcome.INVALID, new InvalidInputException("the request has "
                    + items + " items; " + key + " accepts at most " + v.config.maxQueue() + " at once"));
        }
        return v.batcher.submit(inputs, request.outputs(), items, RequestCheck.deadlineNanos(request, v.config),
                context);
    }

    @Override
    public Future<Void> unload(ModelKey key) {
        ServedVersion v;
        synchronized (this) {
            v = versions.remove(key);
            if (v == null) {
                return Future.failedFuture(new ModelNotLoadedException(key));
            }
        }
        LOG.info("unloading {}", key);
        return workers.drain(v).compose(x -> release(v));
    }

    @Override
    public synchronized Optional<ModelStatus> status(ModelKey key) {
        return Optional.ofNullable(versions.get(key)).map(ServedVersion::status);
    }

    /** Without the status itself: that reads five of the batcher's figures under its lock. */
    @Override
    public synchronized boolean isRegistered(ModelKey key) {
        return versions.containsKey(key);
    }

    @Override
    public synchronized List<ModelStatus> models() {
        return versions.values().stream().map(ServedVersion::status).toList();
    }

    @Override
    public List<HostStatus> hosts() {
        return runtime.hosts();
    }

    @Override
    public void addRequestListener(Consumer<RequestFacts> listener) {
        listeners.add(listener);
    }

    @Override
    public synchronized Future<Void> close() {
        if (closed != null) {
            return closed;
        }
        closing = true;
        vertx.cancelTimer(sweepTimer);
        List<ServedVersion> all = new ArrayList<>(versions.values());
        versions.clear();
        LOG.info("shutting down: draining {} model version(s)", all.size());
        List<Future<Void>> done = new ArrayList<>();
        for (ServedVersion v : all) {
            done.add(workers.drain(v).compose(x -> release(v)));
        }
        Promise<Void> finished = Promise.promise();
        // a batch stuck in native code must not hold shutdown forever
        long cap = vertx.setTimer(2 * config.shutdownTimeout().toMillis() + 1000, id -> {
            LOG.warn("shutdown: some workers did not stop in time");
            finished.tryComplete();
        });
        Future.join(done).onComplete(ar -> {
            vertx.cancelTimer(cap);
            finished.tryComplete();
        });
        closed = finished.future().eventually(runtime::close);
        return closed;
    }

    // --- VersionWorkers.Versions ----------------------------------------------------------------

    @Override
    public synchronized Future<ModelRuntime.Model> modelFor(ServedVersion v) {
        return registered(v) ? ensureLoaded(v) : Future.failedFuture(new ModelNotLoadedException(v.key));
    }

    @Override
    public synchronized boolean mayDeploy(ServedVersion v, ModelRuntime.Model model) {
        return registered(v) && v.serves(model);
    }

    @Override
    public synchronized boolean adopt(ServedVersion v, BatchWorker worker) {
        if (!registered(v)) {
            return false;
        }
        v.deployments.add(worker);
        return true;
    }

    /** Whether the version is in the table; nothing may start for one that left it. Under the lock. */
    private boolean registered(ServedVersion v) {
        return versions.get(v.key) == v;
    }

    // --- loading and memory (ModelLoads) ----------------------------------------------------

    /** The version's model, loading it (and making room for it) if it is not in memory. */
    private synchronized Future<ModelRuntime.Model> ensureLoaded(ServedVersion v) {
        return loads.ensureLoaded(v, versions.values());
    }

    /**
     * The runtime lost a version's model (its host died): it no longer counts as in memory, its
     * idle workers go, and the next request loads it again (a cold start). Batches that were running
     * fail on their own, and their workers are replaced then.
     */
    private void modelLost(ModelRuntime.Model lost) {
        ServedVersion v;
        synchronized (this) {
            v = versions.get(lost.key());
            if (v == null || !v.inMemoryOrLoading() || !v.model().isComplete() || v.model().failed()
                    || v.model().result() != lost) {
                return; // not (or no longer) this version's model
            }
            if (v.loaded()) {
                v.unload(); // the host that held it is gone: nothing to close
            } else {
                v.dropLoading(); // loaded just now, not yet marked: its load handler sees it superseded
            }
            memory.discharge(v);
        }
        LOG.warn("{}: its model host is gone; it loads again on the next request", lost.key());
        workers.undeploy(v, v.batcher.modelLost());
    }

    @Override
    public boolean forgetIfLost(ServedVersion v) {
        ModelRuntime.Model current = null;
        synchronized (this) {
            if (!registered(v)) {
                return false;
            }
            if (v.inMemoryOrLoading() && v.model().succeeded()) {
                current = v.model().result();
            }
        }
        if (current != null && runtime.isLost(current)) {
            modelLost(current);
        }
        return true; // still registered: its current model is good, loading, or gone and forgotten
    }

    private void forgetAfterFailedLoad(ServedVersion v, Throwable err) {
        boolean removed;
        synchronized (this) {
            removed = registered(v);
            if (removed) {
                versions.remove(v.key);
            }
        }
        LOG.warn("{} refused: {}", v.key, err.getMessage());
        if (removed) { // otherwise unload() or close() took it out of the table and releases it
            workers.drain(v).compose(x -> release(v));
        }
    }

    /** Stops idle workers above the minimum; unloads idle versions whose minimum is zero. */
    private synchronized void sweepIdle() {
        long now = System.nanoTime();
        for (ServedVersion v : versions.values()) {
            if (!v.loaded()) {
                continue;
            }
            List<BatchWorker> retired = v.batcher.retireIdle(v.config.idleTimeout(), v.config.minWorkers());
            if (!retired.isEmpty()) {
                LOG.debug("{}: stopping {} idle worker(s)", v.key, retired.size());
                workers.undeploy(v, retired);
            }
            if (v.config.minWorkers() == 0 && v.batcher.workers() == 0
                    && now - v.batcher.lastUsedNanos() >= v.config.idleTimeout().toNanos()) {
                List<BatchWorker> rest = v.batcher.retireAll();
                if (rest != null) {
                    LOG.info("{} idle for {}, unloading it", v.key, v.config.idleTimeout());
                    loads.unloadModel(v, rest);
                }
            }
        }
    }

    // --- shutdown -------------------------------------------------------------------------------

    /** Retires a version that left the table: stops its workers, then frees its model, memory and meters. */
    private Future<Void> release(ServedVersion v) {
        ModelRuntime.Model model;
        synchronized (this) {
            model = v.retire();
            memory.discharge(v);
        }
        return workers.undeployAll(v)
                .transform(x -> workers.stuckStopped(v))
                .transform(ar -> {
                    if (model != null) {
                        VersionWorkers.closeUnlessStuck(v, model, ar);
                    }
                    v.metrics.close();
                    return Future.succeededFuture();
                });
    }

    // --- helpers --------------------------------------------------------------------------------

    private static OverloadedException shuttingDown() {
        return new OverloadedException("the serving engine is shutting down", Duration.ofSeconds(5));
    }
}
