package com.modelmarket.marketplace.training;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.catalog.CatalogModel;
import com.modelmarket.marketplace.catalog.CatalogService;
import com.modelmarket.marketplace.catalog.ModelKind;
import com.modelmarket.marketplace.config.TrainingSettings;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.ConflictException;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.marketplace.subscriptions.SubscriptionService;
import com.modelmarket.marketplace.catalog.ArtifactValidator;
import com.modelmarket.serving.FineTuneResult;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import com.modelmarket.serving.store.StoredArtifact;
import com.modelmarket.serving.training.Hyperparameters;
import com.modelmarket.serving.TrainedArtifact;
import com.modelmarket.serving.TrainingRun;
import com.modelmarket.serving.training.JobPriority;
import com.modelmarket.serving.training.TrainingFailedException;
import com.modelmarket.serving.training.TrainingOptions;
import com.modelmarket.serving.training.TrainingRecipe;
import com.modelmarket.serving.training.TrainingTask;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training jobs: checks a job (algorithm the caller may use, its own dataset of the recipe's task,
 * hyperparameters against the recipe's schema, a target model name), queues it on this node's
 * bounded training pool and runs it there — never on an event loop — into a new private model
 * version through {@link CatalogService#publishTrained}. States {@code queued → running →
 * succeeded | failed | cancelled}, each change audited; progress is written per epoch.
 *
 * <p>Bounds: {@code threads} jobs run at once, {@code maxQueued} more wait (503 beyond), and a
 * tenant may have {@code maxOpenPerTenant} open (429 beyond); all per node. A job cancelled while
 * queued never starts; a running one stops between two steps. A job still open when the node
 * stops, or found open at start (the node died), ends failed, "interrupted": its partial work is
 * never stored (the artifact is written only after training succeeded, and the version only after
 * it validated).
 */
public final class TrainingService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingService.class);
    static final String INTERRUPTED = "interrupted: the server stopped while the job was open; start it again";

    private final Pool pool;
    private final CatalogService catalog;
    private final SubscriptionService subscriptions;
    private final DatasetService datasets;
    private final ModelStore store;
    private final AuditLog audit;
    private final TrainingSettings settings;
    private final ServingEngine engine;
    private final TrainingJobRepository jobs;
    private final ExecutorService executor;
    private final JobAdmission admission;
    private final Map<UUID, AtomicBoolean> cancels = new ConcurrentHashMap<>();
    private volatile boolean closing;

    public TrainingService(Pool pool, CatalogService catalog, SubscriptionService subscriptions, DatasetService datasets,
                           ModelStore store, AuditLog audit, TrainingSettings settings, ServingEngine engine, JobRunner runner) {
        this.engine = engine;
        this.jobs = new TrainingJobRepository(runner);
        this.pool = pool;
        this.catalog = catalog;
        this.subscriptions = subscriptions;
        this.datasets = datasets;
        this.store = store;
        this.audit = audit;
        this.settings = settings;
        AtomicInteger n = new AtomicInteger();
        this.admission = new JobAdmission("training", "training job(s)", settings.threads() + settings.maxQueued(),
                settings.maxOpenPerTenant(), 30, 30);
        this.executor = Executors.newFixedThreadPool(settings.threads(), r -> {
            Thread t = new Thread(r, "mm-training-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** A job as the caller asks for it. */
    public record Input(String algorithm, UUID datasetId, JsonObject hyperparameters, String targetModel,
                        Optional<String> targetName, Optional<String> targetVersion) {
    }

    /** At start: jobs an earlier run left open end as failed ("interrupted"), each audited. */
    public Future<Integer> failInterrupted() {
        return TenantScope.system(pool, tx -> jobs.failInterrupted(tx, INTERRUPTED).compose(ended -> {
            Future<Void> chain = Future.succeededFuture();
            for (UUID[] job : ended) {
                chain = chain.compose(v -> audit.recordByPlatform(tx, job[0], "training.fail", "training_job", job[1],
                        new JsonObject().put("reason", INTERRUPTED)));
            }
            return chain.map(v -> ended.size());
        }));
    }

    public Future<TrainingJob> create(Actor actor, Input in) {
        Principal p = DatasetService.requireTrainer(actor.principal());
        UUID tenant = p.tenantId();
        return catalog.visible(tenant, in.algorithm()).compose(algorithm -> {
            if (algorithm.kind() != ModelKind.ALGORITHM) {
                return Future.failedFuture(new InvalidFieldException("/algorithm", "'" + in.algorithm() + "' is a model, not an algorithm"));
            }
            if (algorithm.algorithmSpec().containsKey("fineTune")) {
                return createFineTune(actor, p, algorithm, in);
            }
            TrainingRecipe recipe;
            Hyperparameters hp;
            try {
                recipe = TrainingRecipe.fromJson(algorithm.algorithmSpec());
                hp = recipe.resolve(in.hyperparameters());
            } catch (com.modelmarket.serving.training.InvalidFieldException e) {
                return Future.failedFuture(new InvalidFieldException(e.pointer(), e.detail()));
            }
            return entitlement(tenant, algorithm).compose(entitlement -> timeLimit(tenant, algorithm, entitlement).compose(limit -> datasets.get(p, in.datasetId())
                    .recover(err -> Future.failedFuture(err instanceof NotFoundException
                            ? NotFoundException.at("/datasetId", "/datasetId: no dataset of yours has this id") : err))
                    .compose(dataset -> {
                        if (!dataset.task().equals(recipe.task().jsonName())) {
                            return Future.failedFuture(new InvalidFieldException("/datasetId", "the dataset is for "
                                    + dataset.task() + ", the algorithm trains " + recipe.task().jsonName()));
                        }
                        return target(tenant, in).compose(version -> admission.admit(tenant).compose(v -> TenantScope.tenant(pool, tenant,
                                        tx -> jobs.insert(tx, tenant, algorithm.id(),
                                                        entitlement.map(SubscriptionService.Entitlement::subscriptionId).orElse(null), dataset.id(),
                                                        recipe.toJson(), hp.toJson(), in.targetModel(), version, p.userId())
                                                .compose(job -> audit.record(tx, tenant, actor, "training.create", "training_job",
                                                        job.id(), new JsonObject().put("algorithm", algorithm.slug())
                                                                .put("dataset", dataset.id().toString())
                                                                .put("target", in.targetModel() + "@" + version)).map(x -> job)))
                                .onFailure(err -> admission.release(tenant))
                                .onSuccess(job -> submit(new Run(job, actor, dataset, recipe, hp, algorithm,
                                        in.targetName().orElse(in.targetModel()), limit, null)))));
                    })));
        });
    }

    /** What lets the tenant train with the algorithm: its own (empty), or an active subscription (else 403). */
    private Future<Optional<SubscriptionService.Entitlement>> entitlement(UUID tenant, CatalogModel algorithm) {
        if (algorithm.tenantId().equals(tenant)) {
            return Future.succeededFuture(Optional.empty());
        }
        return subscriptions.entitlement(tenant, algorithm.id()).compose(e -> e.isPresent() ? Future.succeededFuture(e)
                : Future.failedFuture(new ForbiddenException("Subscribe to the algorithm '" + algorithm.slug()
                        + "' before training with it")));
    }

    /**
     * The job's time limit: the least of {@code training.max-job-seconds}, the plan's {@code
     * trainingMaxJobSeconds} (if it sets one), and on a free plan with a monthly training-minute
     * cap what is left of it this month (UTC). A cap used up refuses the job (429).
     */
    private Future<JobLimit> timeLimit(UUID tenant, CatalogModel algorithm,
                                       Optional<SubscriptionService.Entitlement> entitlement) {
        JobLimit limit = new JobLimit(settings.maxJobTime(), "");
        if (entitlement.isEmpty()) {
            return Future.succeededFuture(limit);
        }
        var plan = entitlement.get().plan();
        if (plan.training().maxJobSeconds() > 0) {
            limit = limit.atMost(java.time.Duration.ofSeconds(plan.training().maxJobSeconds()),
                    " (the limit of the plan '" + plan.name() + "')");
        }
        if (!plan.free() || plan.training().includedMinutes() == 0) {
            return Future.succeededFuture(limit);
        }
        JobLimit planLimit = limit;
        long capMillis = plan.training().includedMinutes() * 60_000L;
        java.time.YearMonth month = java.time.YearMonth.now(java.time.ZoneOffset.UTC);
        java.time.Instant start = month.atDay(1).atStartOfDay(java.time.ZoneOffset.UTC).toInstant();
        return TenantScope.tenant(pool, tenant, c -> jobs.usedMillisSince(c, tenant, algorithm.id(), start)).compose(used -> {
            long left = capMillis - used;
            if (left <= 0) {
                return Future.failedFuture(new com.modelmarket.marketplace.errors.QuotaExhaustedException("The free plan's "
                        + plan.training().includedMinutes() + " training minutes this month are used up",
                        month.plusMonths(1).atDay(1).atStartOfDay(java.time.ZoneOffset.UTC).toInstant()));
            }
            return Future.succeededFuture(planLimit.atMost(java.time.Duration.ofMillis(left),
                    " (what was left of the plan's training minutes)"));
        });
    }

    /** A job's time limit and, when it is not the node's own, what set it (for the failure reason). */
    private record JobLimit(java.time.Duration time, String why) {
        JobLimit atMost(java.time.Duration other, String because) {
            return other.compareTo(time) < 0 ? new JobLimit(other, because) : this;
        }
    }


    public Future<List<TrainingJob>> list(Principal caller) {
        return TenantScope.tenant(pool, caller.tenantId(), c -> jobs.list(c, caller.tenantId()));
    }

    public Future<TrainingJob> get(Principal caller, UUID id) {
        return TenantScope.tenant(pool, caller.tenantId(), c -> jobs.find(c, caller.tenantId(), id))
                .compose(found -> found.map(Future::succeededFuture)
                        .orElseGet(() -> Future.failedFuture(new NotFoundException("Training job"))));
    }

    /**
     * Cancels an open job: a queued one ends at once; a running one is asked to stop and ends
     * between two steps (within a second or two). 409 if it had ended.
     */
    public Future<TrainingJob> cancel(Actor actor, UUID id) {
        Principal p = DatasetService.requireTrainer(actor.principal());
        return get(p, id).compose(job -> {
            if (job.state().finished()) {
                return Future.failedFuture(new ConflictException("The job has ended (" + job.state().wire() + ")"));
            }
            AtomicBoolean flag = cancels.get(id);
            if (flag != null) {
                flag.set(true);
            }
            if (job.state() == JobState.QUEUED) {
                return finish(job, actor, JobState.CANCELLED, "cancelled by " + actor.principal().userId(), null, null, null)
                        .compose(v -> get(p, id));
            }
            return TenantScope.tenant(pool, p.tenantId(), tx -> audit.record(tx, p.tenantId(), actor, "training.cancel",
                    "training_job", id, new JsonObject())).compose(v -> get(p, id));
        });
    }

    /** The target version: given (and higher than any the model has), or 1.0.0 for a new model, the next minor for an old one. */
    private Future<String> target(UUID tenant, Input in) {
        if (!in.targetModel().matches("[a-z0-9][a-z0-9-]{0,62}")) {
            return Future.failedFuture(new InvalidFieldException("/target/model",
                    "must be lower-case letters, digits and '-', at most 63 characters"));
        }
        return catalog.trainingTarget(tenant, in.targetModel()).compose(existing -> {
            if (existing.isEmpty()) {
                return Future.succeededFuture(in.targetVersion().orElse("1.0.0"));
            }
            CatalogModel model = existing.get();
            return catalog.highestVersion(tenant, model.id()).map(highest -> {
                String[] parts = highest.split("\\.");
                String next = parts[0] + "." + (Integer.parseInt(parts[1]) + 1) + ".0";
                return in.targetVersion().orElse(next);
            });
        });
    }


    /** What a queued job needs to run. */
    private record Run(TrainingJob job, Actor actor, Dataset dataset, TrainingRecipe recipe, Hyperparameters hp,
                       CatalogModel algorithm, String targetName, JobLimit timeLimit, FineTune fineTune) {
    }

    /** A fine-tuning job's base: the publisher's served TorchScript version, and the job's settings. */
    private record FineTune(com.modelmarket.marketplace.catalog.ModelVersion base, FineTuneSettings settings) {
    }

    /**
     * A job of a fine-tuning algorithm: the publisher's TorchScript model ({@code fineTune.model} at
     * {@code fineTune.version}) tuned on the caller's rows in a sandboxed job host of the publisher's (a fresh process per job),
     * into a new TorchScript version of the caller's own model — stored and validated like an upload.
     */
    private Future<TrainingJob> createFineTune(Actor actor, Principal p, CatalogModel algorithm, Input in) {
        UUID tenant = p.tenantId();
        JsonObject spec = algorithm.algorithmSpec();
        JsonObject ft = spec.getJsonObject("fineTune");
        FineTuneSettings settings;
        try {
            settings = FineTuneSettings.fromJson(in.hyperparameters());
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(new InvalidFieldException("/hyperparameters", e.getMessage()));
        }
        return entitlement(tenant, algorithm).compose(entitlement -> timeLimit(tenant, algorithm, entitlement).compose(limit ->
                catalog.ownServingVersion(algorithm.tenantId(), ft.getString("model"), ft.getString("version")).compose(base ->
                        datasets.get(p, in.datasetId())
                                .recover(err -> Future.failedFuture(err instanceof NotFoundException
                                        ? NotFoundException.at("/datasetId", "/datasetId: no dataset of yours has this id") : err))
                                .compose(dataset -> {
                                    int width = base.manifest().getJsonArray("inputs").getJsonObject(0).getJsonArray("shape").getInteger(1);
                                    if (!dataset.task().equals(spec.getString("task"))) {
                                        return Future.failedFuture(new InvalidFieldException("/datasetId", "the dataset is for "
                                                + dataset.task() + ", the model is tuned for " + spec.getString("task")));
                                    }
                                    if (dataset.summary().getJsonArray("features").size() != width) {
                                        return Future.failedFuture(new InvalidFieldException("/datasetId", "the dataset has "
                                                + dataset.summary().getJsonArray("features").size() + " feature columns; the model takes "
                                                + width));
                                    }
                                    return target(tenant, in).compose(version -> admission.admit(tenant).compose(v -> TenantScope.tenant(pool,
                                                    tenant, tx -> jobs.insert(tx, tenant, algorithm.id(),
                                                                    entitlement.map(SubscriptionService.Entitlement::subscriptionId).orElse(null),
                                                                    dataset.id(), spec, settings.toJson(), in.targetModel(), version, p.userId())
                                                            .compose(job -> audit.record(tx, tenant, actor, "training.create", "training_job",
                                                                    job.id(), new JsonObject().put("algorithm", algorithm.slug())
                                                                            .put("fineTunes", ft.getString("model") + "@" + ft.getString("version"))
                                                                            .put("dataset", dataset.id().toString())
                                                                            .put("target", in.targetModel() + "@" + version)).map(x -> job)))
                                            .onFailure(err -> admission.release(tenant))
                                            .onSuccess(job -> submit(new Run(job, actor, dataset, null, null, algorithm,
                                                    in.targetName().orElse(in.targetModel()), limit, new FineTune(base, settings))))));
                                }))));
    }

    private void submit(Run run) {
        AtomicBoolean cancelled = new AtomicBoolean();
        cancels.put(run.job().id(), cancelled);
        try {
            executor.execute(() -> {
                try {
                    execute(run, cancelled);
                } catch (Exception e) { // NOPMD: a job's failure must not kill the pool's thread
                    LOG.error("training job {} failed unexpectedly", run.job().id(), e);
                } finally {
                    cancels.remove(run.job().id());
                    admission.release(run.job().tenantId());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            cancels.remove(run.job().id());
            admission.release(run.job().tenantId());
            finish(run.job(), run.actor(), JobState.FAILED, INTERRUPTED, null, null, null);
        }
    }

    /**
     * Runs on a training thread, which only waits: the job computes in the serving engine's job
     * process ({@link ServingEngine#train}, {@link ServingEngine#fineTune}), never in this JVM.
     * Blocking waits on the database are fine here, never on an event loop.
     */
    private void execute(Run run, AtomicBoolean cancelled) throws Exception {
        TrainingJob job = run.job();
        UUID tenant = job.tenantId();
        boolean started = await(TenantScope.tenant(pool, tenant, tx -> jobs.start(tx, tenant, job.id()).compose(ok -> ok
                ? audit.record(tx, tenant, run.actor(), "training.start", "training_job", job.id(), new JsonObject()).map(true)
                : Future.succeededFuture(false))));
        if (!started || closing) {
            return; // cancelled while it waited, or the node is stopping (close() ends it)
        }
        AtomicReference<Future<Void>> writes = new AtomicReference<>(Future.succeededFuture());
        long startedNanos = System.nanoTime();
        TrainingOptions options = TrainingOptions.DEFAULT
                .withHeldOutFraction(settings.heldOutFraction())
                .withTimeLimit(run.timeLimit().time())
                .withCancellation(() -> cancelled.get() || closing)
                .withPriority(JobPriority.parse(settings.cpuPriority()), settings.pytorchThreads())
                .withProgress(progress -> {
                    JsonObject json = progress.toJson();
                    // one write after the other, in epoch order
                    writes.updateAndGet(previous -> previous.transform(ar -> TenantScope.tenant(pool, tenant,
                            tx -> jobs.progress(tx, tenant, job.id(), json))));
                });
        try {
            if (run.fineTune() != null) {
                executeFineTune(run, options, startedNanos, writes);
                return;
            }
            StoredArtifact csv = store.find(run.dataset().sha256())
                    .orElseThrow(() -> new IllegalStateException("the dataset's file is gone from the store"));
            TrainedArtifact trained = awaitJob(engine.train(new TrainingRun(tenant.toString(), csv,
                    run.dataset().labelColumn(), run.recipe().task(), datasets.limits(), run.recipe(), run.hp()), options));
            awaitQuietly(writes.get());
            StoredArtifact artifact;
            try (InputStream in = Files.newInputStream(trained.file())) {
                artifact = store.put(in, Long.MAX_VALUE);
            } finally {
                Files.deleteIfExists(trained.file());
            }
            await(catalog.recordUpload(run.actor().principal(), artifact));
            JsonObject training = new JsonObject()
                    .put("jobId", job.id().toString())
                    .put("algorithm", run.algorithm().slug())
                    .put("dataset", datasetJson(run))
                    .mergeIn(trained.report());
            JsonObject manifest = trained.manifest().copy().put("name", job.targetSlug()).put("artifact", "trained-model");
            String task = run.recipe().task() == TrainingTask.CLASSIFICATION ? "tabular-classification" : "regression";
            var version = await(catalog.publishTrained(run.actor(), job.targetSlug(), run.targetName(), task,
                    job.targetVersion(), artifact, manifest, training));
            long computeMillis = trained.report().getLong("elapsedMillis");
            await(finish(job, run.actor(), JobState.SUCCEEDED, null, training.put("model", job.targetSlug())
                    .put("version", version.version()).put("computeMillis", computeMillis), version.modelId(), version.id(),
                    computeMillis));
            LOG.info("training job {} succeeded in {} ms: {}@{}", job.id(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos), job.targetSlug(), version.version());
        } catch (TrainingFailedException e) {
            awaitQuietly(writes.get());
            JobState end = e.reason() == TrainingFailedException.Reason.CANCELLED && !closing ? JobState.CANCELLED : JobState.FAILED;
            String reason = closing ? INTERRUPTED : switch (e.reason()) {
                case CANCELLED -> "cancelled";
                case TIME_LIMIT -> "time limit: the job ran past " + run.timeLimit().time().toMillis() / 1000.0 + " s"
                        + run.timeLimit().why();
                case DIVERGED -> "the loss became NaN or infinite: " + e.getMessage();
                case ENGINE_ERROR -> "the training engine failed: " + e.getMessage();
            };
            awaitQuietly(finish(job, run.actor(), end, reason, null, null, null));
        } catch (Exception e) { // NOPMD: whatever went wrong, the job ends and says why
            awaitQuietly(writes.get());
            LOG.warn("training job {} failed: {}", job.id(), e.toString());
            awaitQuietly(finish(job, run.actor(), JobState.FAILED, closing ? INTERRUPTED : failure(e), null, null, null));
        }
    }

    /** The engine's job, awaited without a bound of its own (the job's time limit bounds it); its failure unwrapped. */
    private static <T> T awaitJob(Future<T> job) throws Exception {
        try {
            return job.toCompletionStage().toCompletableFuture().get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof TrainingFailedException failed) {
                throw failed; // cancelled, time limit, diverged: the job ends with that reason
            }
            throw e;
        }
    }

    /** The fine-tuning part of {@link #execute}: in a job host of the publisher's, then stored and published like an upload. */
    private void executeFineTune(Run run, TrainingOptions options, long startedNanos, AtomicReference<Future<Void>> writes)
            throws Exception {
        TrainingJob job = run.job();
        var base = run.fineTune().base();
        ModelManifest manifest = ModelManifest.fromJson(base.manifest());
        FineTuneRows rows;
        try {
            rows = FineTuneRows.of(datasets.load(run.dataset()), manifest);
        } catch (com.modelmarket.serving.training.DatasetRefusedException e) {
            throw new IllegalStateException("the dataset cannot be read any more: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalStateException("the dataset does not fit the model: " + e.getMessage(), e);
        }
        StoredArtifact baseArtifact = store.find(base.artifactSha256())
                .orElseThrow(() -> new IllegalStateException("the base model's artifact is gone from the store"));
        FineTuneResult tuned = awaitJob(engine.fineTune(ArtifactValidator.keyOf(run.algorithm().tenantId(), base.modelId(),
                base.id()), baseArtifact, manifest, rows, run.fineTune().settings(), options));
        awaitQuietly(writes.get());
        StoredArtifact artifact;
        try (InputStream in = Files.newInputStream(tuned.file())) {
            artifact = store.put(in, Long.MAX_VALUE);
        } finally {
            Files.deleteIfExists(tuned.file());
        }
        await(catalog.recordUpload(run.actor().principal(), artifact));
        long computeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
        JsonObject report = tuned.report().toJson();
        JsonObject training = new JsonObject()
                .put("jobId", job.id().toString())
                .put("algorithm", run.algorithm().slug())
                .put("fineTuned", new JsonObject().put("model", run.algorithm().algorithmSpec().getJsonObject("fineTune").getString("model"))
                        .put("version", base.version()))
                .put("dataset", datasetJson(run))
                .put("hyperparameters", run.fineTune().settings().toJson())
                .put("metrics", report.getValue("tuned"))
                .put("baseMetrics", report.getValue("base"))
                .put("report", report)
                .put("split", new JsonObject().put("heldOutRows", report.getValue("heldOutRows")))
                .put("elapsedMillis", computeMillis);
        JsonObject manifestJson = manifest.toJson();
        String task = "classification".equals(run.algorithm().algorithmSpec().getString("task")) ? "tabular-classification" : "regression";
        var version = await(catalog.publishTrained(run.actor(), job.targetSlug(), run.targetName(), task, job.targetVersion(),
                artifact, manifestJson, training));
        await(finish(job, run.actor(), JobState.SUCCEEDED, null, training.put("model", job.targetSlug())
                .put("version", version.version()).put("computeMillis", computeMillis), version.modelId(), version.id(), computeMillis));
    }

    private Future<Void> finish(TrainingJob job, Actor actor, JobState state, String reason, JsonObject result, UUID modelId,
                                UUID versionId) {
        return finish(job, actor, state, reason, result, modelId, versionId, null);
    }

    /**
     * Ends an open job, audited; a succeeded one is metered in the same transaction (by its id, once),
     * so it is billed if and only if it is recorded as succeeded.
     */
    private Future<Void> finish(TrainingJob job, Actor actor, JobState state, String reason, JsonObject result, UUID modelId,
                                UUID versionId, Long meteredMillis) {
        UUID tenant = job.tenantId();
        return TenantScope.tenant(pool, tenant, tx -> jobs.finish(tx, tenant, job.id(), state, reason, result, modelId, versionId)
                .compose(ended -> ended && meteredMillis != null
                        ? jobs.meter(tx, tenant, job.id(), job.algorithmId(), job.subscriptionId(), meteredMillis).map(true)
                        : Future.succeededFuture(ended))
                .compose(ended -> ended ? audit.record(tx, tenant, actor, "training." + switch (state) {
                    case SUCCEEDED -> "succeed";
                    case CANCELLED -> "cancel";
                    default -> "fail";
                }, "training_job", job.id(), new JsonObject().put("state", state.wire()).put("reason", reason))
                        : Future.succeededFuture()));
    }

    private static String failure(Throwable e) {
        Throwable cause = e;
        while (cause instanceof java.util.concurrent.ExecutionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof com.modelmarket.marketplace.errors.GateFailedException gate) {
            return "a publish gate refused the trained version, so none was kept: " + gate.getMessage() + " "
                    + new io.vertx.core.json.JsonArray(new java.util.ArrayList<>(gate.failures())).encode();
        }
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        return "the job failed: " + message;
    }

    /** The dataset a job trained on, as its result records it. */
    private static JsonObject datasetJson(Run run) {
        return new JsonObject().put("id", run.dataset().id().toString()).put("name", run.dataset().name())
                .put("rows", run.dataset().rowCount()).put("sha256", run.dataset().sha256());
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
    }

    private static void awaitQuietly(Future<?> future) {
        try {
            future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) { // NOPMD: progress and bookkeeping writes are best effort here
            LOG.debug("training bookkeeping write failed: {}", e.toString());
        }
    }

    /** Stops taking jobs, asks running ones to stop (they end failed, "interrupted") and waits a little for them. */
    @Override
    public void close() {
        closing = true;
        admission.close();
        cancels.values().forEach(flag -> flag.set(true));
        executor.shutdown();
        try {
            if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
