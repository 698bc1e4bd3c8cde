package com.modelmarket.serving.pool;

import ai.djl.Device;
import ai.djl.engine.Engine;
import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.InvalidInputException;
import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelNotLoadedException;
import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import com.modelmarket.serving.ModelStatus;
import com.modelmarket.serving.Outcome;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.ServingConfig;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.batch.Batcher;
import com.modelmarket.serving.metrics.ModelMetrics;
import com.modelmarket.serving.model.LoadedModel;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.ModelValidator;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TorchRuntime;
import com.modelmarket.serving.store.StoredArtifact;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ServingEngine} on DJL's PyTorch engine: one {@link Batcher} per registered model version,
 * worker verticles each owning a predictor, a shared memory budget with least-recently-used
 * unloading, and idle scale-down.
 *
 * <p>Faults: the predictor pool has {@code workerThreads} compute permits but {@code workerThreads +
 * spareThreads} threads. A worker stuck in a forward pass (its batch far past its deadline) gives
 * its permit back and keeps a spare thread until the pass returns, while a fresh worker with its
 * own predictor replaces it; so a hung model costs at most the spare threads, never the other
 * models' compute. With no spare left a stuck worker keeps its permit and its version's worker
 * slot. A stuck worker is stopped (its predictor closed) once its pass returns; its model is never
 * closed under it.
 *
 * <p>Calibration: the first worker of a version times synthetic batches before it takes real ones
 * and sets its batcher's batch cap ({@link BatchCalibration}); once per version, not per reload.
 *
 * <p>Locking: the engine's lock guards the version table and the memory account; it may be held
 * while calling into a batcher, never the other way round.
 */
public final class DjlServingEngine implements ServingEngine {

    /** The named Vert.x worker pool that runs every predictor. */
    public static final String WORKER_POOL = "modelmarket-serving";

    private static final Logger LOG = LoggerFactory.getLogger(DjlServingEngine.class);

    private final Vertx vertx;
    private final ServingConfig config;
    private final MeterRegistry registry;
    private final Device device;
    private final ModelValidator validator;
    private final WorkerExecutor loader;
    private final Semaphore computePermits;
    private final AtomicInteger sparesLent = new AtomicInteger();
    private final List<Consumer<RequestFacts>> listeners = new CopyOnWriteArrayList<>();
    private final Map<ModelKey, ModelVersion> versions = new HashMap<>();
    private final long sweepTimer;
    private long usedBytes;
    private boolean closing;
    private Future<Void> closed;

    /** Starts PyTorch (blocking for a second or two): call it off the event loop. */
    public DjlServingEngine(Vertx vertx, ServingConfig config, MeterRegistry registry) {
        this.vertx = vertx;
        this.config = config;
        this.registry = registry;
        Engine engine =
                TorchRuntime.start(config.intraOpThreads(), config.interOpThreads(), config.graphOptimizer());
        this.device = TorchRuntime.device(engine, config.device());
        this.validator = new ModelValidator(device);
        this.computePermits = new Semaphore(config.workerThreads());
        this.loader = vertx.createSharedWorkerExecutor("modelmarket-model-loader", 2, 10,
                TimeUnit.MINUTES);
        this.sweepTimer = vertx.setPeriodic(config.idleCheckInterval().toMillis(), id -> sweepIdle());
        LOG.info("serving engine on {}: {} worker thread(s) + {} spare for stuck workers, memory budget {} bytes",
                device, config.workerThreads(), config.spareThreads(), config.memoryBudgetBytes());
    }

    // --- ServingEngine --------------------------------------------------------------------------

    @Override
    public synchronized Future<LoadReport> load(
            ModelKey key, StoredArtifact artifact, ModelManifest manifest, PoolConfig pool) {
        if (closing) {
            return Future.failedFuture(shuttingDown());
        }
        ModelVersion existing = versions.get(key);
        if (existing != null) {
            return existing.artifact.sha256().equals(artifact.sha256())
                    ? existing.firstLoad
                    : Future.failedFuture(new IllegalStateException(
                            key + " is already loaded from another artifact; unload it first"));
        }
        ModelVersion v = new ModelVersion(key, artifact, manifest, pool, new ModelMetrics(registry, key));
        if (v.memoryBytes > config.memoryBudgetBytes()) {
            v.metrics.close();
            return Future.failedFuture(new ModelRejectedException(Check.MEMORY, "the model needs "
                    + v.memoryBytes + " bytes, the engine's whole budget is " + config.memoryBudgetBytes()));
        }
        v.batcher = new Batcher(vertx, key, pool, new VersionScaler(v), v.metrics, this::publish,
                config.stuckGrace());
        v.metrics.gauges(v.batcher::queuedItems, v.batcher::workers, v.batcher::stuckWorkers,
                v.batcher::batchCap);
        versions.put(key, v);
        v.firstLoad = ensureLoaded(v, false)
                .compose(model -> startMinimumWorkers(v, model))
                .map(x -> v.lastLoad)
                .onFailure(err -> forgetAfterFailedLoad(v, err));
        return v.firstLoad;
    }

    @Override
    public Future<InferenceResult> infer(ModelKey key, InferenceRequest request) {
        Context context = vertx.getOrCreateContext();
        ModelVersion v;
        synchronized (this) {
            if (closing) {
                return refuse(context, key, Outcome.OVERLOADED, shuttingDown());
            }
            v = versions.get(key);
        }
        if (v == null) {
            return refuse(context, key, Outcome.NOT_LOADED, new ModelNotLoadedException(key));
        }
        List<Tensor> inputs;
        try {
            inputs = RequestCheck.orderedInputs(v.manifest, request);
        } catch (InvalidInputException e) {
            v.metrics.request(Outcome.INVALID, 0, false);
            return refuse(context, key, Outcome.INVALID, e);
        }
        int items = (int) inputs.get(0).items();
        if (items > v.config.maxQueue()) {
            v.metrics.request(Outcome.INVALID, 0, false);
            return refuse(context, key, Outcome.INVALID, new InvalidInputException("the request has "
                    + items + " items; " + key + " accepts at most " + v.config.maxQueue() + " at once"));
        }
        long deadline;
        if (request.timeout() != null) {
            deadline = System.nanoTime() + request.timeout().toNanos();
        } else if (v.config.defaultTimeout().isZero()) {
            deadline = Long.MAX_VALUE;
        } else {
            deadline = System.nanoTime() + v.config.defaultTimeout().toNanos();
        }
        return v.batcher.submit(inputs, request.outputs(), items, deadline, context);
    }

    @Override
    public Future<Void> unload(ModelKey key) {
        ModelVersion v;
        synchronized (this) {
            v = versions.remove(key);
            if (v == null) {
                return Future.failedFuture(new ModelNotLoadedException(key));
            }
            v.registered = false;
        }
        LOG.info("unloading {}", key);
        return drain(v).compose(x -> release(v));
    }

    @Override
    public synchronized Optional<ModelStatus> status(ModelKey key) {
        return Optional.ofNullable(versions.get(key)).map(this::statusOf);
    }

    @Override
    public synchronized List<ModelStatus> models() {
        return versions.values().stream().map(this::statusOf).toList();
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
        List<ModelVersion> all = new ArrayList<>(versions.values());
        versions.clear();
        all.forEach(v -> v.registered = false);
        LOG.info("shutting down: draining {} model version(s)", all.size());
        List<Future<Void>> done = new ArrayList<>();
        for (ModelVersion v : all) {
            done.add(drain(v).compose(x -> release(v)));
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
        closed = finished.future().eventually(loader::close);
        return closed;
    }

    // --- loading and memory ---------------------------------------------------------------------

    /** The version's model, loading it (and making room for it) if it is not in memory. */
    private synchronized Future<LoadedModel> ensureLoaded(ModelVersion v, boolean cold) {
        if (v.model != null) {
            return v.model;
        }
        try {
            reserveLocked(v);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        long start = System.nanoTime();
        Future<LoadedModel> loading =
                loader.executeBlocking(() -> validator.load(v.artifact, v.manifest), false);
        v.model = loading;
        loading.onComplete(ar -> {
            synchronized (this) {
                if (v.model != loading) { // unloaded while loading
                    if (ar.succeeded()) {
                        ar.result().close();
                    }
                    return;
                }
                if (ar.failed()) {
                    v.model = null;
                    usedBytes -= v.memoryBytes;
                    return;
                }
                long nanos = System.nanoTime() - start;
                v.lastLoad = new LoadReport(v.key, v.artifact.sha256(), v.artifact.sizeBytes(),
                        Duration.ofNanos(nanos), v.memoryBytes, device.toString());
                v.metrics.load(nanos, cold);
                v.batcher.modelLoaded();
                LOG.info("{} {} in {} ms ({} bytes)", cold ? "cold-started" : "loaded", v.key,
                        nanos / 1_000_000, v.artifact.sizeBytes());
            }
        });
        return loading;
    }

    /** Charges the version to the budget, unloading idle least-recently-used versions first. */
    private void reserveLocked(ModelVersion v) {
        Set<ModelVersion> busy = new HashSet<>();
        while (usedBytes + v.memoryBytes > config.memoryBudgetBytes()) {
            ModelVersion victim = versions.values().stream()
                    .filter(o -> o != v && o.loaded() && !busy.contains(o) && o.batcher.isIdle())
                    .min(Comparator.comparingLong(o -> o.batcher.lastUsedNanos()))
                    .orElse(null);
            if (victim == null) {
                throw new OverloadedException("the memory budget (" + config.memoryBudgetBytes()
                        + " bytes) is held by busy models; " + v.key + " needs " + v.memoryBytes,
                        Duration.ofSeconds(1));
            }
            List<BatchWorker> workers = victim.batcher.retireAll();
            if (workers == null) {
                busy.add(victim);
            } else {
                LOG.info("unloading least recently used {} to make room for {}", victim.key, v.key);
                unloadModelLocked(victim, workers);
            }
        }
        usedBytes += v.memoryBytes;
    }

    /** Frees a version's model (it stays registered; the next request reloads it). */
    private void unloadModelLocked(ModelVersion v, List<BatchWorker> workers) {
        LoadedModel model = v.model.result();
        v.model = null;
        usedBytes -= v.memoryBytes;
        undeploy(v, workers).compose(x -> stuckStopped(v)).onComplete(ar -> closeUnlessStuck(v, model, ar));
    }

    private void forgetAfterFailedLoad(ModelVersion v, Throwable err) {
        synchronized (this) {
            if (versions.get(v.key) == v) {
                versions.remove(v.key);
            }
            v.registered = false;
        }
        LOG.warn("{} refused: {}", v.key, err.getMessage());
        drain(v).compose(x -> release(v));
    }

    // --- workers --------------------------------------------------------------------------------

    private Future<Void> startMinimumWorkers(ModelVersion v, LoadedModel model) {
        int count = v.config.minWorkers();
        v.batcher.expectWorkers(count);
        List<Future<ModelWorker>> started = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            started.add(deploy(v, model).compose(w -> calibrated(v, w)).andThen(ar -> {
                if (ar.succeeded()) {
                    v.batcher.workerStarted(ar.result());
                } else {
                    v.batcher.workerFailed(ar.cause());
                }
            }));
        }
        return Future.all(started).mapEmpty();
    }

    /** The batcher's {@link Batcher.Scaler}: loads the model first if needed (a cold start). */
    private void startWorker(ModelVersion v) {
        Future<LoadedModel> model;
        synchronized (this) {
            if (!v.registered) {
                v.batcher.workerFailed(new ModelNotLoadedException(v.key));
                return;
            }
            model = ensureLoaded(v, true);
        }
        model.compose(m -> deploy(v, m)).compose(w -> calibrated(v, w)).onComplete(ar -> {
            if (ar.succeeded()) {
                v.batcher.workerStarted(ar.result());
            } else {
                v.batcher.workerFailed(ar.cause());
            }
        });
    }

    private Future<ModelWorker> deploy(ModelVersion v, LoadedModel model) {
        synchronized (this) {
            if (!v.registered || v.model == null || v.model.result() != model) {
                return Future.failedFuture(new ModelNotLoadedException(v.key));
            }
        }
        ModelWorker worker = new ModelWorker(v.key, model, computePermits);
        DeploymentOptions options = new DeploymentOptions()
                .setThreadingModel(ThreadingModel.WORKER)
                .setWorkerPoolName(WORKER_POOL)
                .setWorkerPoolSize(config.workerThreads() + config.spareThreads())
                .setMaxWorkerExecuteTime(5)
                .setMaxWorkerExecuteTimeUnit(TimeUnit.MINUTES);
        return vertx.deployVerticle(worker, options).compose(id -> {
            boolean keep;
            synchronized (this) {
                keep = v.registered;
                if (keep) {
                    v.deployments.put(worker, id);
                }
            }
            // unloaded while it started: stop it at once
            return keep
                    ? Future.succeededFuture(worker)
                    : vertx.undeploy(id).transform(x -> Future.failedFuture(new ModelNotLoadedException(v.key)));
        });
    }

    /**
     * Times batch sizes on the version's first worker, once per version, and caps its batches; the
     * worker takes real batches only afterwards. Calibration that fails or cannot run keeps {@code
     * maxBatchSize}.
     */
    private Future<ModelWorker> calibrated(ModelVersion v, ModelWorker worker) {
        synchronized (this) {
            if (v.calibrationStarted) {
                return Future.succeededFuture(worker);
            }
            v.calibrationStarted = true;
        }
        PoolConfig pool = v.config;
        if (pool.calibrationBudget().isZero() || pool.maxBatchSize() == 1) {
            return Future.succeededFuture(worker);
        }
        if (BatchCalibration.syntheticInputs(v.manifest, 1).isEmpty()) {
            LOG.info("{}: batch cap stays {}: an input has a variable dimension besides the batch", v.key,
                    pool.maxBatchSize());
            return Future.succeededFuture(worker);
        }
        return worker.calibrate(pool.maxBatchSize(), pool.calibrationBudget()).map(result -> {
            v.batcher.useBatchCap(result.cap());
            LOG.info("{}: batch cap {} of {} (items/s by batch size: {}) calibrated in {} ms{}", v.key,
                    result.cap(), pool.maxBatchSize(), result.table(), result.spentNanos() / 1_000_000,
                    result.stoppedBecause() == null ? "" : "; stopped: " + result.stoppedBecause());
            return worker;
        }).recover(err -> {
            LOG.warn("{}: batch size calibration failed, the cap stays {}: {}", v.key, pool.maxBatchSize(),
                    err.toString());
            return Future.succeededFuture(worker);
        });
    }

    /** The batcher's scaler for one version: starts workers, stops broken or stuck ones. */
    private final class VersionScaler implements Batcher.Scaler {
        private final ModelVersion v;

        VersionScaler(ModelVersion v) {
            this.v = v;
        }

        @Override
        public void startWorker() {
            DjlServingEngine.this.startWorker(v);
        }

        @Override
        public void stopWorker(BatchWorker worker, Future<Void> after) {
            // out of the deployments at once: unloading waits for a stuck pass only so long
            String id = v.deployments.remove(worker);
            if (id == null) {
                return;
            }
            Future<Void> stopped = after.transform(ar -> vertx.undeploy(id));
            v.stopping.add(stopped);
            stopped.onComplete(ar -> v.stopping.remove(stopped));
        }

        @Override
        public boolean lendSpare(BatchWorker stuck) {
            int lent;
            do {
                lent = sparesLent.get();
                if (lent >= config.spareThreads()) {
                    return false;
                }
            } while (!sparesLent.compareAndSet(lent, lent + 1));
            ((ModelWorker) stuck).abandon();
            return true;
        }

        @Override
        public void returnSpare() {
            sparesLent.decrementAndGet();
        }
    }

    /**
     * Completes with true once the version's stuck workers have returned and stopped, or with false
     * after the shutdown timeout: their model must then stay open (leaked) rather than be freed
     * under a forward pass.
     */
    private Future<Boolean> stuckStopped(ModelVersion v) {
        List<Future<Void>> pending = new ArrayList<>(v.stopping);
        if (pending.isEmpty()) {
            return Future.succeededFuture(true);
        }
        Promise<Boolean> done = Promise.promise();
        long timer = vertx.setTimer(config.shutdownTimeout().toMillis(), id -> done.tryComplete(false));
        Future.join(pending).onComplete(ar -> {
            vertx.cancelTimer(timer);
            done.tryComplete(true);
        });
        return done.future();
    }

    private void closeUnlessStuck(ModelVersion v, LoadedModel model, AsyncResult<Boolean> stopped) {
        if (stopped.succeeded() && stopped.result()) {
            model.close();
        } else {
            LOG.warn("{}: a worker is still stuck in a forward pass; its model stays in memory", v.key);
        }
    }

    private Future<Void> undeploy(ModelVersion v, List<BatchWorker> workers) {
        List<Future<Void>> stopped = new ArrayList<>();
        for (BatchWorker w : workers) {
            String id = v.deployments.remove(w);
            if (id != null) {
                stopped.add(vertx.undeploy(id));
            }
        }
        return Future.join(stopped).mapEmpty();
    }

    /** Stops idle workers above the minimum; unloads idle versions whose minimum is zero. */
    private synchronized void sweepIdle() {
        long now = System.nanoTime();
        for (ModelVersion v : versions.values()) {
            if (!v.loaded()) {
                continue;
            }
            List<BatchWorker> retired = v.batcher.retireIdle(v.config.idleTimeout(), v.config.minWorkers());
            if (!retired.isEmpty()) {
                LOG.debug("{}: stopping {} idle worker(s)", v.key, retired.size());
                undeploy(v, retired);
            }
            if (v.config.minWorkers() == 0 && v.batcher.workers() == 0
                    && now - v.batcher.lastUsedNanos() >= v.config.idleTimeout().toNanos()) {
                List<BatchWorker> rest = v.batcher.retireAll();
                if (rest != null) {
                    LOG.info("{} idle for {}, unloading it", v.key, v.config.idleTimeout());
                    unloadModelLocked(v, rest);
                }
            }
        }
    }

    // --- shutdown -------------------------------------------------------------------------------

    /** Lets queued and running work finish within the shutdown timeout; fails what is left. */
    private Future<Void> drain(ModelVersion v) {
        Promise<Void> drained = Promise.promise();
        long timer = vertx.setTimer(config.shutdownTimeout().toMillis(), id -> {
            LOG.warn("{}: work left after {}; failing it", v.key, config.shutdownTimeout());
            v.batcher.abort(new OverloadedException(v.key + " shut down before the request finished",
                    Duration.ofSeconds(1)));
            drained.tryComplete();
        });
        v.batcher.close().onComplete(ar -> {
            vertx.cancelTimer(timer);
            drained.tryComplete();
        });
        return drained.future();
    }

    /** Stops every worker of an unregistered version, then frees its model, memory and meters. */
    private Future<Void> release(ModelVersion v) {
        LoadedModel model;
        synchronized (this) {
            model = v.loaded() ? v.model.result() : null;
            if (v.model != null && (v.model.succeeded() || !v.model.isComplete())) {
                usedBytes -= v.memoryBytes;
            }
            v.model = null;
        }
        return undeploy(v, new ArrayList<>(v.deployments.keySet()))
                .transform(x -> stuckStopped(v))
                .transform(ar -> {
                    if (model != null) {
                        closeUnlessStuck(v, model, ar);
                    }
                    v.metrics.close();
                    return Future.succeededFuture();
                });
    }

    // --- helpers --------------------------------------------------------------------------------

    private ModelStatus statusOf(ModelVersion v) {
        ModelStatus.State state = v.model == null
                ? ModelStatus.State.UNLOADED
                : v.model.succeeded() ? ModelStatus.State.LOADED : ModelStatus.State.LOADING;
        return new ModelStatus(v.key, state, v.batcher.workers(), v.batcher.busyWorkers(),
                v.batcher.queuedItems(), v.lastLoad, v.batcher.batchCap(), v.batcher.stuckWorkers(),
                v.metrics.workersReplaced());
    }

    private void publish(RequestFacts facts) {
        for (Consumer<RequestFacts> listener : listeners) {
            try {
                listener.accept(facts);
            } catch (RuntimeException e) {
                LOG.warn("request listener failed", e);
            }
        }
    }

    private <T> Future<T> refuse(Context context, ModelKey key, Outcome outcome, RuntimeException e) {
        Promise<T> promise = Promise.promise();
        context.runOnContext(x -> {
            publish(RequestFacts.refused(key, outcome, 0));
            promise.fail(e);
        });
        return promise.future();
    }

    private static OverloadedException shuttingDown() {
        return new OverloadedException("the serving engine is shutting down", Duration.ofSeconds(5));
    }
}
