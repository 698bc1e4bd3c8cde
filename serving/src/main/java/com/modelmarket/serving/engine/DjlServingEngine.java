package com.modelmarket.serving.engine;

import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.InvalidInputException;
import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelNotLoadedException;
import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import com.modelmarket.serving.ModelStatus;
import com.modelmarket.serving.RequestOutcome;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.ServingConfig;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.batch.Batcher;
import com.modelmarket.serving.host.HostedRuntime;
import com.modelmarket.serving.metrics.ModelMetrics;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.store.StoredArtifact;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
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
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ServingEngine} on DJL's PyTorch engine: one {@link Batcher} per registered model version,
 * a shared memory budget with least-recently-used unloading, and idle scale-down. Where the model
 * code runs is the {@link ModelRuntime}'s business: sandboxed model-host processes, one per
 * publisher ({@link HostedRuntime}, the default), or this JVM ({@link InProcessRuntime}, trusted
 * use only).
 *
 * <p>Faults: in-process, a worker stuck in a forward pass (its batch far past its deadline) gives
 * its compute permit back and keeps a spare thread until the pass returns, while a fresh worker
 * replaces it. In a model host, the host is killed at the deadline plus a grace, which frees the
 * CPU at once; its models count as lost and load again in a fresh host on the next request.
 *
 * <p>Memory: each version is charged its bytes; the first version of an owner in memory is also
 * charged the runtime's per-owner overhead (a model host's JVM and PyTorch).
 *
 * <p>Calibration: the first worker of a version times synthetic batches before it takes real ones
 * and sets its batcher's batch cap ({@link BatchCalibration}); once per version, not per reload.
 *
 * <p>Locking: the engine's lock guards the version table and the memory account; it may be held
 * while calling into a batcher, never the other way round.
 */
public final class DjlServingEngine implements ServingEngine {

    /** The named Vert.x worker pool that runs every in-process predictor. */
    public static final String WORKER_POOL = InProcessRuntime.WORKER_POOL;

    private static final Logger LOG = LoggerFactory.getLogger(DjlServingEngine.class);

    private final Vertx vertx;
    private final ServingConfig config;
    private final ModelRuntime runtime;
    private final List<Consumer<RequestFacts>> listeners = new CopyOnWriteArrayList<>();
    private final Map<ModelKey, ServedVersion> versions = new HashMap<>();
    /** Versions in memory per owner, for the per-owner overhead. */
    private final Map<String, Integer> inMemoryByOwner = new HashMap<>();
    private final long sweepTimer;
    private long usedBytes;
    private boolean closing;
    private Future<Void> closed;

    /**
     * Starts the runtime the configuration asks for (blocking for a second or two: PyTorch, or the
     * sandbox probe): call it off the event loop.
     */
    public DjlServingEngine(Vertx vertx, ServingConfig config, MeterRegistry registry) {
        this(vertx, config, registry, runtimeFor(vertx, config));
    }

    DjlServingEngine(Vertx vertx, ServingConfig config, MeterRegistry registry, ModelRuntime runtime) {
        this.vertx = vertx;
        this.config = config;
        this.registry = registry;
        this.runtime = runtime;
        runtime.onModelLost(this::modelLost);
        io.micrometer.core.instrument.Gauge.builder("modelmarket.serving.hosts", runtime, r -> r.hosts().size())
                .description("running model-host processes").register(registry);
        io.micrometer.core.instrument.Gauge.builder("modelmarket.serving.hosts.resident", runtime,
                        r -> r.hosts().stream().mapToLong(com.modelmarket.serving.HostStatus::residentBytes).sum())
                .baseUnit("bytes").description("resident memory of all model hosts").register(registry);
        this.sweepTimer = vertx.setPeriodic(config.idleCheckInterval().toMillis(), id -> sweepIdle());
        LOG.info("serving engine on {}: {} worker thread(s) + {} spare for stuck workers, memory budget {} bytes",
                runtime.device(), config.workerThreads(), config.spareThreads(), config.memoryBudgetBytes());
    }

    private final MeterRegistry registry;

    private static ModelRuntime runtimeFor(Vertx vertx, ServingConfig config) {
        if (config.hosts().sandbox() == com.modelmarket.serving.HostConfig.Sandbox.OFF) {
            return new InProcessRuntime(vertx, config);
        }
        try {
            return new HostedRuntime(vertx, config);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // --- ServingEngine --------------------------------------------------------------------------

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
        ServedVersion v = new ServedVersion(key, artifact, manifest, pool, new ModelMetrics(registry, key));
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
        ServedVersion v;
        synchronized (this) {
            if (closing) {
                return refuse(context, key, RequestOutcome.OVERLOADED, shuttingDown());
            }
            v = versions.get(key);
        }
        if (v == null) {
            return refuse(context, key, RequestOutcome.NOT_LOADED, new ModelNotLoadedException(key));
        }
        List<Tensor> inputs;
        try {
            inputs = RequestCheck.orderedInputs(v.manifest, request);
        } catch (InvalidInputException e) {
            v.metrics.request(RequestOutcome.INVALID, 0, false);
            return refuse(context, key, RequestOutcome.INVALID, e);
        }
        int items = (int) inputs.get(0).items();
        if (items > v.config.maxQueue()) {
            v.metrics.request(RequestOutcome.INVALID, 0, false);
            return refuse(context, key, RequestOutcome.INVALID, new InvalidInputException("the request has "
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
        ServedVersion v;
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
    public List<com.modelmarket.serving.HostStatus> hosts() {
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
        all.forEach(v -> v.registered = false);
        LOG.info("shutting down: draining {} model version(s)", all.size());
        List<Future<Void>> done = new ArrayList<>();
        for (ServedVersion v : all) {
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
        closed = finished.future().eventually(runtime::close);
        return closed;
    }

    // --- loading and memory ---------------------------------------------------------------------

    /** The version's model, loading it (and making room for it) if it is not in memory. */
    private synchronized Future<ModelRuntime.Model> ensureLoaded(ServedVersion v, boolean cold) {
        if (v.model != null) {
            return v.model;
        }
        try {
            reserveLocked(v);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        long start = System.nanoTime();
        Future<ModelRuntime.Model> loading = runtime.load(v.key, v.artifact, v.manifest);
        v.model = loading;
        loading.onComplete(ar -> {
            synchronized (this) {
                if (v.model != loading) { // unloaded (or lost) while loading
                    if (ar.succeeded()) {
                        ar.result().close();
                    }
                    return;
                }
                if (ar.failed()) {
                    v.model = null;
                    dischargeLocked(v);
                    return;
                }
                long nanos = System.nanoTime() - start;
                v.lastLoad = new LoadReport(v.key, v.artifact.sha256(), v.artifact.sizeBytes(),
                        Duration.ofNanos(nanos), v.memoryBytes, runtime.device());
                v.metrics.load(nanos, cold);
                v.batcher.modelLoaded();
                LOG.info("{} {} in {} ms ({} bytes)", cold ? "cold-started" : "loaded", v.key,
                        nanos / 1_000_000, v.artifact.sizeBytes());
            }
        });
        return loading;
    }

    /** What loading the version costs now: its bytes, plus its owner's overhead if it is the owner's first. */
    private long costLocked(ServedVersion v) {
        return v.memoryBytes + (inMemoryByOwner.getOrDefault(v.key.owner(), 0) == 0 ? runtime.ownerOverheadBytes() : 0);
    }

    /** Charges the version to the budget, unloading idle least-recently-used versions first. */
    private void reserveLocked(ServedVersion v) {
        Set<ServedVersion> busy = new HashSet<>();
        while (usedBytes + costLocked(v) > config.memoryBudgetBytes()) {
            ServedVersion victim = versions.values().stream()
                    .filter(o -> o != v && o.loaded() && !busy.contains(o) && o.batcher.isIdle())
                    .min(Comparator.comparingLong(o -> o.batcher.lastUsedNanos()))
                    .orElse(null);
            if (victim == null) {
                throw new OverloadedException("the memory budget (" + config.memoryBudgetBytes()
                        + " bytes) is held by busy models; " + v.key + " needs " + costLocked(v),
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
        usedBytes += costLocked(v);
        inMemoryByOwner.merge(v.key.owner(), 1, Integer::sum);
    }

    /** Gives back what {@link #reserveLocked} charged. */
    private void dischargeLocked(ServedVersion v) {
        usedBytes -= v.memoryBytes;
        int left = inMemoryByOwner.merge(v.key.owner(), -1, Integer::sum);
        if (left <= 0) {
            inMemoryByOwner.remove(v.key.owner());
            usedBytes -= runtime.ownerOverheadBytes();
        }
    }

    /** Frees a version's model (it stays registered; the next request reloads it). */
    private void unloadModelLocked(ServedVersion v, List<BatchWorker> workers) {
        ModelRuntime.Model model = v.model.result();
        v.model = null;
        dischargeLocked(v);
        undeploy(v, workers).compose(x -> stuckStopped(v)).onComplete(ar -> closeUnlessStuck(v, model, ar));
    }

    /**
     * The runtime lost a version's model (its host died): it no longer counts as in memory, its
     * idle workers go, and the next request loads it again (a cold start). Batches that were running
     * fail on their own, and their workers are replaced then.
     */
    private void modelLost(ModelKey key) {
        ServedVersion v;
        synchronized (this) {
            v = versions.get(key);
            if (v == null || v.model == null) {
                return;
            }
            if (v.model.isComplete()) {
                v.model = null;
                dischargeLocked(v);
            }
        }
        LOG.warn("{}: its model host is gone; it loads again on the next request", key);
        undeploy(v, v.batcher.modelLost());
    }

    private void forgetAfterFailedLoad(ServedVersion v, Throwable err) {
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

    private Future<Void> startMinimumWorkers(ServedVersion v, ModelRuntime.Model model) {
        int count = v.config.minWorkers();
        v.batcher.expectWorkers(count);
        List<Future<ModelRuntime.Worker>> started = new ArrayList<>();
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
    private void startWorker(ServedVersion v) {
        Future<ModelRuntime.Model> model;
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

    private Future<ModelRuntime.Worker> deploy(ServedVersion v, ModelRuntime.Model model) {
        synchronized (this) {
            if (!v.registered || v.model == null || v.model.result() != model) {
                return Future.failedFuture(new ModelNotLoadedException(v.key));
            }
        }
        return runtime.startWorker(model).compose(worker -> {
            boolean keep;
            synchronized (this) {
                keep = v.registered;
                if (keep) {
                    v.deployments.add(worker);
                }
            }
            // unloaded while it started: stop it at once
            return keep
                    ? Future.succeededFuture(worker)
                    : runtime.stopWorker(worker).transform(x -> Future.failedFuture(new ModelNotLoadedException(v.key)));
        });
    }

    /**
     * Times batch sizes on the version's first worker, once per version, and caps its batches; the
     * worker takes real batches only afterwards. Calibration that fails or cannot run keeps {@code
     * maxBatchSize}.
     */
    private Future<ModelRuntime.Worker> calibrated(ServedVersion v, ModelRuntime.Worker worker) {
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
        private final ServedVersion v;

        VersionScaler(ServedVersion v) {
            this.v = v;
        }

        @Override
        public void startWorker() {
            DjlServingEngine.this.startWorker(v);
        }

        @Override
        public void stopWorker(BatchWorker worker, Future<Void> after) {
            // out of the deployments at once: unloading waits for a stuck pass only so long
            if (!v.deployments.remove(worker)) {
                return;
            }
            Future<Void> stopped = after.transform(ar -> runtime.stopWorker(worker));
            v.stopping.add(stopped);
            stopped.onComplete(ar -> v.stopping.remove(stopped));
        }

        @Override
        public boolean lendSpare(BatchWorker stuck) {
            return runtime.lendSpare(stuck);
        }

        @Override
        public void returnSpare() {
            runtime.returnSpare();
        }
    }

    /**
     * Completes with true once the version's stuck workers have returned and stopped, or with false
     * after the shutdown timeout: their model must then stay open (leaked) rather than be freed
     * under a forward pass.
     */
    private Future<Boolean> stuckStopped(ServedVersion v) {
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

    private void closeUnlessStuck(ServedVersion v, ModelRuntime.Model model, AsyncResult<Boolean> stopped) {
        if (stopped.succeeded() && stopped.result()) {
            model.close();
        } else {
            LOG.warn("{}: a worker is still stuck in a forward pass; its model stays in memory", v.key);
        }
    }

    private Future<Void> undeploy(ServedVersion v, List<BatchWorker> workers) {
        List<Future<Void>> stopped = new ArrayList<>();
        for (BatchWorker w : workers) {
            if (v.deployments.remove(w)) {
                stopped.add(runtime.stopWorker(w));
            }
        }
        return Future.join(stopped).mapEmpty();
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
    private Future<Void> drain(ServedVersion v) {
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
    private Future<Void> release(ServedVersion v) {
        ModelRuntime.Model model;
        synchronized (this) {
            model = v.loaded() ? v.model.result() : null;
            if (v.model != null && (v.model.succeeded() || !v.model.isComplete())) {
                dischargeLocked(v);
            }
            v.model = null;
        }
        return undeploy(v, new ArrayList<>(v.deployments))
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

    private ModelStatus statusOf(ServedVersion v) {
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

    private <T> Future<T> refuse(Context context, ModelKey key, RequestOutcome outcome, RuntimeException e) {
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
