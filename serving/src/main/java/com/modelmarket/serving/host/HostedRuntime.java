package com.modelmarket.serving.host;

import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelNotLoadedException;
import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.ServingConfig;
import com.modelmarket.serving.HostConfig;
import com.modelmarket.serving.HostStatus;
import com.modelmarket.serving.batch.Batch;
import com.modelmarket.serving.batch.BatchOutput;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.host.HostProtocol.Frame;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.ModelValidator;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TorchScriptArchive;
import com.modelmarket.serving.model.TorchScriptCode;
import com.modelmarket.serving.engine.BatchCalibration;
import com.modelmarket.serving.engine.ModelRuntime;
import com.modelmarket.serving.engine.OutputCheck;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every model in a sandboxed model-host process ({@link HostLauncher}), one host per
 * publisher tenant ({@link ModelKey#owner()}), started on demand and stopped when it has held no
 * model for the idle timeout. Loading (the example run), calibration and every batch are calls
 * into the host with a deadline; a host whose call overruns its deadline by the kill grace is
 * killed and its models count as lost, to be loaded again in a fresh host by the next request.
 * A host computes on at most {@code maxShare} of the worker threads.
 */
public final class HostedRuntime implements ModelRuntime {

    private static final Logger LOG = LoggerFactory.getLogger(HostedRuntime.class);

    private final Vertx vertx;
    private final ServingConfig serving;
    private final HostConfig config;
    private final Path root;
    private final HostLauncher launcher;
    /** Why hosts cannot start on this machine (no bubblewrap, no user namespaces), or null. */
    private final String unavailable;
    private final WorkerExecutor blocking;
    private final int threadsPerHost;
    private final Map<String, Future<ModelHost>> hosts = new ConcurrentHashMap<>();
    private final Map<String, ModelKey> handles = new ConcurrentHashMap<>();
    private final List<Consumer<ModelKey>> lossListeners = new CopyOnWriteArrayList<>();
    private final AtomicInteger generation = new AtomicInteger();
    /** Per owner: hosts that died young in a row, and when the next may start. */
    private final Map<String, Backoff> backoffs = new ConcurrentHashMap<>();

    /** Restarts of an owner whose hosts keep dying (killed at deadlines, crashing) slow down. */
    private record Backoff(int deaths, long notBeforeNanos) {}

    /** A host that lived this long before it died starts the count of deaths in a row afresh. */
    static final long HEALTHY_NANOS = 30_000_000_000L;
    static final long MAX_BACKOFF_MILLIS = 30_000;
    private final long watchdog;
    private final long sweeper;
    private volatile boolean closing;

    /** A model in a host. */
    private record Hosted(ModelKey key, ModelManifest manifest, ModelHost host, String handle, Path file,
            HostedRuntime runtime) implements Model {
        @Override
        public void close() {
            runtime.unload(this);
        }
    }

    /**
     * Probes the sandbox and unpacks PyTorch's natives; blocking, call it from a worker thread. If the
     * sandbox cannot be made here the runtime still starts, and refuses every load saying why.
     */
    public HostedRuntime(Vertx vertx, ServingConfig serving) throws IOException {
        this.vertx = vertx;
        this.serving = serving;
        this.config = serving.hosts();
        this.root = config.dir() != null
                ? Files.createDirectories(config.dir())
                : Files.createTempDirectory("modelmarket-hosts");
        Path natives = config.nativeDir() != null ? config.nativeDir() : HostLauncher.defaultNativeDir();
        this.threadsPerHost = Math.max(1, (int) Math.floor(serving.workerThreads() * config.maxShare()));
        this.blocking = vertx.createSharedWorkerExecutor("modelmarket-host-starter", 4, 10, TimeUnit.MINUTES);
        this.launcher = new HostLauncher(config, natives);
        String why = HostLauncher.probe();
        if (why == null) {
            why = launcher.unsafeClassPath(root);
        }
        if (why == null) {
            try {
                launcher.prepareNatives();
            } catch (IOException | InterruptedException e) {
                why = e.getMessage();
            }
        }
        this.unavailable = why;
        if (why != null) {
            LOG.error("model hosts cannot start on this machine, so no model will load: {}. Install bubblewrap "
                    + "and allow user namespaces, or set serving.sandbox=off for trusted single-tenant use.", why);
        } else {
            LOG.info("model hosts: bubblewrap sandbox, {} compute thread(s) per publisher (of {}), kill grace {} ms, "
                    + "under {}", threadsPerHost, serving.workerThreads(), config.killGrace().toMillis(), root);
        }
        this.watchdog = vertx.setPeriodic(50, id -> checkDeadlines());
        this.sweeper = vertx.setPeriodic(1000, id -> stopIdleHosts());
    }

    // --- loading ----------------------------------------------------------------------------------

    @Override
    public Future<Model> load(ModelKey key, StoredArtifact artifact, ModelManifest manifest) {
        if (unavailable != null) {
            return Future.failedFuture(new OverloadedException("models cannot be loaded: the sandbox for "
                    + "publisher code is unavailable on this server (" + unavailable + ")", Duration.ofSeconds(30)));
        }
        if (closing) {
            return Future.failedFuture(new OverloadedException("the serving engine is shutting down", Duration.ofSeconds(5)));
        }
        return blocking.executeBlocking(() -> {
            ModelStore.verify(artifact);
            TorchScriptArchive.check(artifact.path());
            if (config.staticCheck()) {
                TorchScriptCode.check(artifact.path());
            }
            return artifact;
        }, false).compose(a -> host(key.owner())).compose(host -> {
            String handle = key.toString();
            return blocking.executeBlocking(() -> link(artifact, host), false)
                    .compose(file -> {
                        host.handles.add(handle);
                        handles.put(host.name + "/" + handle, key);
                        // the deadline counts from the call: a cold host's start is not the model's time
                        long deadline = System.nanoTime() + config.validationTimeout().toNanos();
                        return host.call(HostProtocol.LOAD, "loading " + key, deadline, w -> w.string(handle)
                                        .string(HostLauncher.MODELS + "/" + file.getFileName())
                                        .string(manifest.toJson().encode()))
                                .transform(ar -> loaded(key, manifest, host, handle, file, ar.succeeded()
                                        ? ar.result() : null, ar.cause()));
                    });
        });
    }

    private Future<Model> loaded(ModelKey key, ModelManifest manifest, ModelHost host, String handle, Path file,
            Frame frame, Throwable failure) {
        Hosted model = new Hosted(key, manifest, host, handle, file, this);
        if (failure != null) {
            forget(model);
            if (failure instanceof DeadlineExceededException) {
                return Future.failedFuture(new ModelRejectedException(Check.EXAMPLE, "loading the model and running "
                        + "its example did not finish within " + config.validationTimeout().toMillis()
                        + " ms; its host was stopped"));
            }
            return Future.failedFuture(new ModelRejectedException(Check.LOAD, "the model host stopped while "
                    + "loading it: " + failure.getMessage()));
        }
        try {
            if (frame.type() == HostProtocol.FAILED) {
                HostProtocol.Reader r = frame.reader();
                String check = r.string();
                String reason = r.string();
                forget(model);
                return Future.failedFuture(new ModelRejectedException(
                        check.equals("example") ? Check.EXAMPLE : Check.LOAD, reason));
            }
            if (frame.type() != HostProtocol.LOADED) {
                throw new IOException("unexpected answer " + frame.type());
            }
            List<Tensor> outputs = frame.reader().tensors();
            ModelValidator.schemaProblem(manifest, outputs).ifPresent(problem -> {
                throw new ModelRejectedException(Check.SCHEMA, problem);
            });
            return Future.succeededFuture(model);
        } catch (ModelRejectedException e) {
            unload(model);
            return Future.failedFuture(e);
        } catch (IOException e) {
            unload(model);
            host.kill("model host " + host.name + " sent a malformed answer: " + e.getMessage());
            return Future.failedFuture(new ModelRejectedException(Check.LOAD, "the model host sent a malformed answer"));
        }
    }

    /** The tenant's artifact in its host's model folder: a hard link into the store, or a copy. */
    private static Path link(StoredArtifact artifact, ModelHost host) throws IOException {
        Path target = host.modelsDir.resolve(artifact.sha256() + ".pt");
        if (Files.exists(target)) {
            return target;
        }
        try {
            Files.createLink(target, artifact.path());
        } catch (FileAlreadyExistsException e) {
            return target;
        } catch (IOException | UnsupportedOperationException e) {
            Path tmp = host.modelsDir.resolve(artifact.sha256() + ".tmp");
            Files.copy(artifact.path(), tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        }
        return target;
    }

    private void unload(Hosted model) {
        forget(model);
        if (model.host.alive()) {
            model.host.call(HostProtocol.UNLOAD, "unloading " + model.key, Long.MAX_VALUE,
                    w -> w.string(model.handle));
        }
    }

    private void forget(Hosted model) {
        model.host.handles.remove(model.handle);
        handles.remove(model.host.name + "/" + model.handle);
        if (model.host.handles.isEmpty()) {
            model.host.markIdle();
        }
    }

    /** The owner's running host, started if there is none (or it died). */
    private Future<ModelHost> host(String owner) {
        Backoff backoff = backoffs.get(owner);
        long wait = backoff == null ? 0 : backoff.notBeforeNanos() - System.nanoTime();
        if (wait > 0 && !hosts.containsKey(owner)) {
            return Future.failedFuture(new OverloadedException("this publisher's model host died " + backoff.deaths()
                    + " times in a row; it restarts in " + (wait / 1_000_000) + " ms",
                    Duration.ofNanos(Math.max(wait, 1_000_000_000L))));
        }
        return hosts.compute(owner, (o, current) -> {
            if (current != null && (!current.isComplete() || (current.succeeded() && current.result().alive()))) {
                return current;
            }
            String name = dirName(owner) + "-" + generation.incrementAndGet();
            Path dir = root.resolve(name);
            return blocking.executeBlocking(() -> ModelHost.start(launcher, owner, name, dir, threadsPerHost,
                    Math.max(1, serving.intraOpThreads()), serving.interOpThreads(), serving.graphOptimizer(),
                    serving.device(), config.startTimeout(), this::hostDied), false)
                    .recover(err -> Future.failedFuture(new OverloadedException("the model host could not "
                            + "start: " + err.getMessage(), Duration.ofSeconds(5))));
        });
    }

    /** A short, file-name-safe folder name for an owner. */
    private static String dirName(String owner) {
        String safe = owner.replaceAll("[^A-Za-z0-9_-]", "");
        if (safe.length() > 40 || safe.isEmpty()) {
            safe = HexFormat.of().formatHex(Integer.toString(owner.hashCode()).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        return safe;
    }

    private void hostDied(ModelHost host) {
        hosts.computeIfPresent(host.owner, (o, f) -> f.succeeded() && f.result() == host ? null : f);
        if (!closing && !host.stoppedOnPurpose()) {
            backoffs.compute(host.owner, (o, b) -> {
                int deaths = b == null || host.ageNanos() > HEALTHY_NANOS ? 1 : b.deaths() + 1;
                long delayMillis = deaths <= 1 ? 0 : Math.min(MAX_BACKOFF_MILLIS, 500L << Math.min(16, deaths - 1));
                return new Backoff(deaths, System.nanoTime() + delayMillis * 1_000_000);
            });
        }
        List<String> lost = new ArrayList<>(host.handles);
        host.handles.clear();
        for (String handle : lost) {
            ModelKey key = handles.remove(host.name + "/" + handle);
            if (key != null) {
                for (Consumer<ModelKey> l : lossListeners) {
                    l.accept(key);
                }
            }
        }
        vertx.executeBlocking(() -> {
            deleteTree(host.dir);
            return null;
        }, false);
    }

    private void checkDeadlines() {
        long now = System.nanoTime();
        long grace = config.killGrace().toNanos();
        for (Future<ModelHost> f : hosts.values()) {
            if (f.succeeded()) {
                f.result().checkDeadlines(now, grace);
            }
        }
    }

    private void stopIdleHosts() {
        long now = System.nanoTime();
        for (Map.Entry<String, Future<ModelHost>> e : hosts.entrySet()) {
            Future<ModelHost> f = e.getValue();
            if (f.succeeded() && f.result().handles.isEmpty() && !f.result().busy()
                    && now - f.result().idleSinceNanos() > config.idleTimeout().toNanos()) {
                if (hosts.remove(e.getKey(), f)) {
                    LOG.info("model host {} holds no model: stopping it", f.result().name);
                    f.result().stop();
                }
            }
        }
    }

    // --- workers ----------------------------------------------------------------------------------

    @Override
    public Future<Worker> startWorker(Model model) {
        Hosted hosted = (Hosted) model;
        if (!hosted.host.alive() || !hosted.host.handles.contains(hosted.handle)) {
            return Future.failedFuture(new ModelNotLoadedException(hosted.key));
        }
        return Future.succeededFuture(new HostWorker(hosted));
    }

    /** A batch worker whose forward passes run in the model's host. */
    private static final class HostWorker implements Worker {
        private final Hosted model;

        HostWorker(Hosted model) {
            this.model = model;
        }

        @Override
        public Future<BatchOutput> run(Batch batch) {
            long deadline = batch.latestDeadlineNanos();
            List<Tensor> inputs = batch.mergedInputs();
            return model.host.call(HostProtocol.RUN, "a batch of " + batch.items() + " item(s) of " + model.key,
                    deadline, w -> w.string(model.handle).tensors(inputs)).map(frame -> {
                        try {
                            HostProtocol.Reader r = frame.reader();
                            if (frame.type() == HostProtocol.FAILED) {
                                r.string();
                                throw new InferenceFailedException(model.key + ": the model failed on a batch of "
                                        + batch.items() + " item(s): " + r.string(), null);
                            }
                            if (frame.type() != HostProtocol.OUTPUT) {
                                throw new IOException("unexpected answer " + frame.type());
                            }
                            long nanos = r.i64();
                            List<Tensor> outputs = r.tensors();
                            OutputCheck.check(model.key, model.manifest, outputs);
                            return new BatchOutput(outputs, nanos);
                        } catch (IOException e) {
                            model.host.kill("model host " + model.host.name + " sent a malformed answer: "
                                    + e.getMessage());
                            throw new InferenceFailedException(model.key + ": its host sent a malformed answer",
                                    new BrokenException(e.getMessage(), e));
                        }
                    });
        }

        @Override
        public Future<BatchCalibration.Result> calibrate(int maxBatchSize, Duration budget) {
            long deadline = System.nanoTime() + budget.toNanos() * 2 + Duration.ofSeconds(5).toNanos();
            return model.host.call(HostProtocol.CALIBRATE, "calibrating " + model.key, deadline,
                    w -> w.string(model.handle).i32(maxBatchSize).i64(budget.toNanos())).map(frame -> {
                        try {
                            HostProtocol.Reader r = frame.reader();
                            if (frame.type() != HostProtocol.CALIBRATED) {
                                r.string();
                                throw new IllegalStateException(r.string());
                            }
                            int cap = r.i32();
                            int n = r.i32();
                            if (n < 0 || n > 64) {
                                throw new IOException(n + " calibration rows");
                            }
                            TreeMap<Integer, Double> rates = new TreeMap<>();
                            for (int i = 0; i < n; i++) {
                                rates.put(r.i32(), r.f64());
                            }
                            return new BatchCalibration.Result(cap, rates, r.i64(), emptyToNull(r.string()));
                        } catch (IOException e) {
                            throw new IllegalStateException("malformed calibration answer: " + e.getMessage(), e);
                        }
                    });
        }
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }

    @Override
    public Future<Void> stopWorker(BatchWorker worker) {
        return Future.succeededFuture();
    }

    @Override
    public boolean lendSpare(BatchWorker stuck) {
        return true; // a stuck host is killed at its deadline; no thread of this JVM is held
    }

    @Override
    public void returnSpare() {
        // nothing lent
    }

    @Override
    public long ownerOverheadBytes() {
        return config.overheadBytes();
    }

    @Override
    public void onModelLost(Consumer<ModelKey> listener) {
        lossListeners.add(listener);
    }

    @Override
    public String device() {
        return serving.device() + " (sandboxed model hosts)";
    }

    @Override
    public List<HostStatus> hosts() {
        List<HostStatus> all = new ArrayList<>();
        for (Future<ModelHost> f : hosts.values()) {
            if (f.succeeded() && f.result().alive()) {
                ModelHost h = f.result();
                all.add(new HostStatus(h.owner, h.name, h.pid(), h.residentBytes(), h.handles.size()));
            }
        }
        return all;
    }

    @Override
    public Future<Void> close() {
        closing = true;
        vertx.cancelTimer(watchdog);
        vertx.cancelTimer(sweeper);
        List<Future<String>> stopped = new ArrayList<>();
        for (Future<ModelHost> f : hosts.values()) {
            if (f.succeeded()) {
                stopped.add(f.result().stop());
            }
        }
        hosts.clear();
        return Future.join(stopped).<Void>mapEmpty().eventually(blocking::close).transform(ar -> {
            if (config.dir() == null) {
                return vertx.executeBlocking(() -> {
                    deleteTree(root);
                    return null;
                }, false).mapEmpty();
            }
            return Future.succeededFuture();
        });
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // left for the next start
                }
            });
        } catch (IOException e) {
            LOG.debug("cannot clean {}: {}", dir, e.toString());
        }
    }
}
