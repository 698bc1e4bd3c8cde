package com.modelmarket.serving.host;

import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.FineTuneResult;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import com.modelmarket.serving.training.FineTuner;
import com.modelmarket.serving.TrainedArtifact;
import com.modelmarket.serving.TrainingRun;
import com.modelmarket.serving.training.TrainingOptions;
import com.modelmarket.serving.ModelNotLoadedException;
import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.ServingConfig;
import com.modelmarket.serving.HostConfig;
import com.modelmarket.serving.HostStatus;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.host.HostProtocol.Frame;
import com.modelmarket.serving.model.ArtifactCheck;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.ModelValidator;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.engine.ModelRuntime;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 *
 * <p>Both artifact kinds run in hosts. Before a host sees a file, the platform checks it here as
 * the kind its manifest declares ({@link ArtifactCheck}); a trained model carries no code, but
 * loading it through the same path keeps one way of loading, batching and failing.
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
    /** Hosts of training and fine-tuning jobs: one per job, stopped when it ends. */
    private final java.util.Set<ModelHost> jobHosts = ConcurrentHashMap.newKeySet();
    private final Map<String, ModelKey> handles = new ConcurrentHashMap<>();
    /** Models whose load succeeded, by host and handle, so that a host's death names them. */
    private final Map<String, HostedModel> loadedModels = new ConcurrentHashMap<>();
    private final List<Consumer<Model>> lossListeners = new CopyOnWriteArrayList<>();
    private final AtomicInteger generation = new AtomicInteger();
    /** Per owner: restarts of hosts that keep dying slow down. */
    private final RestartBackoff backoff = new RestartBackoff();
    private final long watchdog;
    private final long sweeper;
    private volatile boolean closing;

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
            ArtifactCheck.check(artifact.path(), manifest, config.staticCheck());
            return artifact;
        }, false).compose(a -> host(key.owner())).compose(host -> {
            String handle = key.toString();
            return blocking.executeBlocking(() -> HostFiles.link(artifact, host.modelsDir), false)
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

    /**
     * The artifact's platform checks, then the job in a job host of the model's owner of its own
     * ({@link HostedJob}): the publisher's code and the buyer's rows in a fresh sandbox, at the job's
     * priority, that ends with the job; the owner's serving host keeps serving meanwhile.
     */
    @Override
    public Future<FineTuneResult> fineTune(ModelKey key, StoredArtifact base, ModelManifest manifest,
            FineTuneRows rows, FineTuneSettings settings, TrainingOptions options) {
        Future<Void> refused = refusal("fine-tuned");
        if (refused != null) {
            return refused.mapEmpty();
        }
        return blocking.executeBlocking(() -> {
            FineTuner.checkFits(manifest, rows);
            ModelStore.verify(base);
            ArtifactCheck.check(base.path(), manifest, config.staticCheck());
            return base;
        }, false).compose(a -> jobHost(key.owner(), "tune", options)).compose(host -> blocking
                .executeBlocking(() -> HostFiles.link(base, host.modelsDir), false)
                .compose(file -> HostedJob.fineTune(vertx, blocking, host, file, key, manifest, rows, settings, options))
                .eventually(() -> stopJobHost(host)));
    }

    /**
     * A recipe training job in a job host of its own: platform code on the tenant's CSV, in a
     * sandboxed process at the job's priority, so that it shares nothing with this JVM (its
     * collector, JIT compiler, safepoints) and only the CPU time inference leaves over.
     */
    @Override
    public Future<TrainedArtifact> train(TrainingRun run, TrainingOptions options) {
        Future<Void> refused = refusal("trained");
        if (refused != null) {
            return refused.mapEmpty();
        }
        return blocking.executeBlocking(() -> ModelStore.verify(run.csv()), false)
                .compose(csv -> jobHost(run.owner(), "train", options)).compose(host -> blocking
                        .executeBlocking(() -> HostFiles.link(run.csv(), host.modelsDir), false)
                        .compose(file -> HostedJob.train(vertx, blocking, host, file, run, options))
                        .eventually(() -> stopJobHost(host)));
    }

    private Future<Void> refusal(String what) {
        if (unavailable != null) {
            return Future.failedFuture(new OverloadedException("models cannot be " + what + ": the sandbox for "
                    + "publisher code is unavailable on this server (" + unavailable + ")", Duration.ofSeconds(30)));
        }
        if (closing) {
            return Future.failedFuture(new OverloadedException("the serving engine is shutting down", Duration.ofSeconds(5)));
        }
        return null;
    }

    /**
     * A fresh host for one job of {@code owner}: one compute thread, the job's PyTorch threads, the
     * job's priority ({@code chrt --idle} by default) for the whole process. Watched for deadlines
     * like the serving hosts; never shared with another job or with serving.
     */
    private Future<ModelHost> jobHost(String owner, String kind, TrainingOptions options) {
        String name = kind + "-" + HostFiles.dirName(owner) + "-" + generation.incrementAndGet();
        Path dir = root.resolve(name);
        return blocking.executeBlocking(() -> ModelHost.start(launcher, owner, name, dir, 1, options.threads(), 1,
                        false, "cpu", options.priority(), config.startTimeout(), this::jobHostDied), false)
                .recover(err -> Future.failedFuture(new OverloadedException("the job's process could not start: "
                        + err.getMessage(), Duration.ofSeconds(5))))
                .onSuccess(host -> {
                    jobHosts.add(host);
                    if (closing || !host.alive()) {
                        host.kill("job host " + name + " started while the engine stopped");
                    }
                });
    }

    private Future<Void> stopJobHost(ModelHost host) {
        jobHosts.remove(host);
        return host.stop().mapEmpty();
    }

    private void jobHostDied(ModelHost host) {
        jobHosts.remove(host);
        vertx.executeBlocking(() -> {
            HostFiles.deleteTree(host.dir);
            return null;
        }, false);
    }

    /** The running job hosts' process ids (for tests and operators). */
    public List<Long> jobHostPids() {
        List<Long> pids = new ArrayList<>();
        for (ModelHost h : jobHosts) {
            if (h.alive()) {
                pids.add(h.pid());
            }
        }
        return pids;
    }

    private Future<Model> loaded(ModelKey key, ModelManifest manifest, ModelHost host, String handle, Path file,
            Frame frame, Throwable failure) {
        HostedModel model = new HostedModel(key, manifest, host, handle, file, this);
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
            loadedModels.put(host.name + "/" + handle, model);
            if (!host.alive()) { // died while the answer was read: its death listener missed this one
                loadedModels.remove(host.name + "/" + handle);
                return Future.failedFuture(new ModelRejectedException(Check.LOAD, "the model host stopped while "
                        + "loading it"));
            }
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

    void unload(HostedModel model) {
        forget(model);
        if (model.host().alive()) {
            model.host().call(HostProtocol.UNLOAD, "unloading " + model.key(), Long.MAX_VALUE,
                    w -> w.string(model.handle()));
        }
    }

    private void forget(HostedModel model) {
        model.host().handles.remove(model.handle());
        handles.remove(model.host().name + "/" + model.handle());
        loadedModels.remove(model.host().name + "/" + model.handle(), model);
        if (model.host().handles.isEmpty()) {
            model.host().markIdle();
        }
    }

    /** The owner's running host, started if there is none (or it died). */
    private Future<ModelHost> host(String owner) {
        OverloadedException wait = hosts.containsKey(owner) ? null : backoff.refusal(owner);
        if (wait != null) {
            return Future.failedFuture(wait);
        }
        return hosts.compute(owner, (o, current) -> {
            if (current != null && (!current.isComplete() || (current.succeeded() && current.result().alive()))) {
                return current;
            }
            String name = HostFiles.dirName(owner) + "-" + generation.incrementAndGet();
            Path dir = root.resolve(name);
            return blocking.executeBlocking(() -> ModelHost.start(launcher, owner, name, dir, threadsPerHost,
                    Math.max(1, serving.intraOpThreads()), serving.interOpThreads(), serving.graphOptimizer(),
                    serving.device(), config.startTimeout(), this::hostDied), false)
                    .recover(err -> Future.failedFuture(new OverloadedException("the model host could not "
                            + "start: " + err.getMessage(), Duration.ofSeconds(5))));
        });
    }

    private void hostDied(ModelHost host) {
        hosts.computeIfPresent(host.owner, (o, f) -> f.succeeded() && f.result() == host ? null : f);
        if (!closing && !host.stoppedOnPurpose()) {
            backoff.died(host.owner, host.ageNanos());
        }
        List<String> lost = new ArrayList<>(host.handles);
        host.handles.clear();
        for (String handle : lost) {
            handles.remove(host.name + "/" + handle);
            HostedModel model = loadedModels.remove(host.name + "/" + handle);
            if (model != null) { // one still loading fails its load call instead
                for (Consumer<Model> l : lossListeners) {
                    l.accept(model);
                }
            }
        }
        vertx.executeBlocking(() -> {
            HostFiles.deleteTree(host.dir);
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
        for (ModelHost h : jobHosts) {
            h.checkDeadlines(now, grace);
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
    public boolean isLost(Model model) {
        HostedModel hosted = (HostedModel) model;
        return !hosted.host().alive() || !hosted.host().handles.contains(hosted.handle());
    }

    @Override
    public Future<Worker> startWorker(Model model) {
        HostedModel hosted = (HostedModel) model;
        if (!hosted.host().alive() || !hosted.host().handles.contains(hosted.handle())) {
            return Future.failedFuture(new ModelNotLoadedException(hosted.key()));
        }
        return Future.succeededFuture(new HostWorker(hosted));
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
    public void onModelLost(Consumer<Model> listener) {
        lossListeners.add(listener);
    }

    /** A host computes on {@code threadsPerHost} threads, shared by its owner's models. */
    @Override
    public int parallelism() {
        return threadsPerHost;
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
        for (ModelHost h : jobHosts) {
            h.kill("job host " + h.name + " stopped: the engine is shutting down");
        }
        jobHosts.clear();
        return Future.join(stopped).<Void>mapEmpty().eventually(blocking::close).transform(ar -> {
            if (config.dir() == null) {
                return vertx.executeBlocking(() -> {
                    HostFiles.deleteTree(root);
                    return null;
                }, false).mapEmpty();
            }
            return Future.succeededFuture();
        });
    }
}
