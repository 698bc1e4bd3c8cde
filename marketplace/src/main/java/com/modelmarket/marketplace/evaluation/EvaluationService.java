package com.modelmarket.marketplace.evaluation;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.config.EvaluationSettings;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.ConflictException;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.marketplace.inference.InferenceService;
import com.modelmarket.marketplace.inference.InferenceTarget;
import com.modelmarket.marketplace.training.Dataset;
import com.modelmarket.marketplace.training.DatasetService;
import com.modelmarket.marketplace.training.JobState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluation jobs: checks a job (a model version the caller may call — its own, or one it has an
 * active subscription to — its own dataset, a column mapping that fits the version's manifest),
 * queues it on this node's bounded evaluation pool and runs it there ({@link EvaluationExecution}),
 * never on an event loop. States {@code queued → running → succeeded | failed | cancelled}, each
 * change audited; progress is written about twice a second.
 *
 * <p>Bounds, like training's: {@code threads} jobs run at once, {@code maxQueued} more wait (503
 * beyond), a tenant may have {@code maxOpenPerTenant} open (429 beyond); all per node. A job still
 * open when the node stops, or found open at start, ends failed, "interrupted".
 */
public final class EvaluationService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EvaluationService.class);
    static final String INTERRUPTED = "interrupted: the server stopped while the job was open; start it again";

    private final Pool pool;
    private final InferenceService inference;
    private final DatasetService datasets;
    private final AuditLog audit;
    private final EvaluationSettings settings;
    private final EvaluationJobRepository jobs;
    private final EvaluationExecution execution;
    private final ExecutorService executor;
    private final com.modelmarket.marketplace.training.JobAdmission admission;
    private final Map<UUID, AtomicBoolean> cancels = new ConcurrentHashMap<>();
    private volatile boolean closing;

    public EvaluationService(Vertx vertx, Pool pool, InferenceService inference, DatasetService datasets, AuditLog audit,
                             EvaluationSettings settings, com.modelmarket.marketplace.training.JobRunner runner) {
        this.pool = pool;
        this.jobs = new EvaluationJobRepository(runner);
        this.inference = inference;
        this.datasets = datasets;
        this.audit = audit;
        this.settings = settings;
        this.execution = new EvaluationExecution(vertx, pool, inference, datasets, audit, settings, jobs);
        AtomicInteger n = new AtomicInteger();
        this.admission = new com.modelmarket.marketplace.training.JobAdmission("evaluation", "evaluation(s)",
                settings.threads() + settings.maxQueued(), settings.maxOpenPerTenant(), 10, 10);
        this.executor = Executors.newFixedThreadPool(settings.threads(), r -> {
            Thread t = new Thread(r, "mm-evaluation-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A job as the caller asks for it: the model, its version (empty: the latest), the dataset, the
     * mapping (null: the default), a second version to compare with, and whether it is the owner's
     * reference measurement, published on the model's card.
     */
    public record Input(String model, Optional<String> version, UUID datasetId, JsonObject mapping,
                        Optional<String> compareWith, boolean reference) {
    }

    /** What a queued job needs to run. */
    record Run(UUID jobId, UUID tenantId, Actor actor, Dataset dataset, InferenceTarget target, ColumnMapping mapping,
               InferenceTarget other, ColumnMapping otherMapping, boolean reference) {
    }

    /** At start: jobs an earlier run left open end as failed ("interrupted"), each audited. */
    public Future<Integer> failInterrupted() {
        return TenantScope.system(pool, tx -> jobs.failInterrupted(tx, INTERRUPTED).compose(ended -> {
            Future<Void> chain = Future.succeededFuture();
            for (UUID[] job : ended) {
                chain = chain.compose(v -> audit.recordByPlatform(tx, job[0], "evaluation.fail", "evaluation_job", job[1],
                        new JsonObject().put("reason", INTERRUPTED)));
            }
            return chain.map(v -> ended.size());
        }));
    }

    public Future<EvaluationJob> create(Actor actor, Input in) {
        Principal p = requireEvaluator(actor.principal());
        UUID tenant = p.tenantId();
        return inference.resolve(tenant, in.model(), in.version().orElse(null), true).compose(target -> {
            if (in.reference() && !target.own()) {
                return Future.failedFuture(new ForbiddenException("Only the model's publisher measures it on a reference dataset"));
            }
            Future<Optional<InferenceTarget>> other = in.compareWith().isEmpty() ? Future.succeededFuture(Optional.empty())
                    : inference.resolve(tenant, in.model(), in.compareWith().get(), true).map(Optional::of)
                            .recover(err -> Future.failedFuture(err instanceof NotFoundException
                                    ? NotFoundException.at("/compareWith", "/compareWith: the model has no such version you may call") : err));
            return other.compose(second -> datasets.get(p, in.datasetId())
                    .recover(err -> Future.failedFuture(err instanceof NotFoundException
                            ? NotFoundException.at("/datasetId", "/datasetId: no dataset of yours has this id") : err))
                    .compose(dataset -> {
                        if (second.isPresent() && second.get().version().id().equals(target.version().id())) {
                            throw new InvalidFieldException("/compareWith", "is the version evaluated; compare two different versions");
                        }
                        if (dataset.rowCount() > settings.maxRows()) {
                            throw new InvalidFieldException("/datasetId", "the dataset has " + dataset.rowCount()
                                    + " rows; an evaluation takes at most " + settings.maxRows());
                        }
                        ColumnMapping mapping = ColumnMapping.resolve(in.mapping(), target.manifest(), dataset);
                        ColumnMapping otherMapping = second.map(s -> ColumnMapping.resolve(in.mapping(), s.manifest(), dataset)).orElse(null);
                        if (otherMapping != null && !otherMapping.labels().equals(mapping.labels())) {
                            throw new InvalidFieldException("/compareWith", "the versions' outputs have different labels; "
                                    + "their predictions cannot be compared row by row");
                        }
                        JsonObject datasetJson = new JsonObject().put("id", dataset.id().toString()).put("name", dataset.name())
                                .put("rows", dataset.rowCount()).put("sha256", dataset.sha256()).put("labelColumn", dataset.labelColumn())
                                .put("task", dataset.task());
                        return admission.admit(tenant).compose(v -> TenantScope.tenant(pool, tenant, tx -> jobs.insert(tx, tenant,
                                                target.model().id(), target.version().id(), second.map(s -> s.version().id()).orElse(null),
                                                dataset.id(), datasetJson, mapping.toJson(), in.reference(), p.userId())
                                        .compose(id -> audit.record(tx, tenant, actor, "evaluation.create", "evaluation_job", id,
                                                new JsonObject().put("model", target.model().slug()).put("version", target.version().version())
                                                        .put("compareWith", second.map(s -> s.version().version()).orElse(null))
                                                        .put("dataset", dataset.id().toString()).put("reference", in.reference()))
                                                .compose(x -> jobs.find(tx, tenant, id)).map(Optional::orElseThrow)))
                                .onFailure(err -> admission.release(tenant))
                                .onSuccess(job -> submit(new Run(job.id(), tenant, actor, dataset, target, mapping,
                                        second.orElse(null), otherMapping, in.reference()))));
                    }));
        });
    }

    public Future<List<EvaluationJob>> list(Principal caller) {
        return TenantScope.tenant(pool, caller.tenantId(), c -> jobs.list(c, caller.tenantId()));
    }

    public Future<EvaluationJob> get(Principal caller, UUID id) {
        return TenantScope.tenant(pool, caller.tenantId(), c -> jobs.find(c, caller.tenantId(), id))
                .compose(found -> found.map(Future::succeededFuture)
                        .orElseGet(() -> Future.failedFuture(new NotFoundException("Evaluation"))));
    }

    /** Cancels an open job: a queued one ends at once, a running one between two requests. 409 if it had ended. */
    public Future<EvaluationJob> cancel(Actor actor, UUID id) {
        Principal p = requireEvaluator(actor.principal());
        return get(p, id).compose(job -> {
            if (job.state().finished()) {
                return Future.failedFuture(new ConflictException("The evaluation has ended (" + job.state().wire() + ")"));
            }
            AtomicBoolean flag = cancels.get(id);
            if (flag != null) {
                flag.set(true);
            }
            if (job.state() == JobState.QUEUED) {
                return execution.finish(job.tenantId(), job.id(), actor, JobState.CANCELLED, "cancelled", null, null)
                        .compose(v -> get(p, id));
            }
            return TenantScope.tenant(pool, p.tenantId(), tx -> audit.record(tx, p.tenantId(), actor, "evaluation.cancel",
                    "evaluation_job", id, new JsonObject())).compose(v -> get(p, id));
        });
    }

    static Principal requireEvaluator(Principal p) {
        if (!p.role().canPublish()) {
            throw new ForbiddenException("Only owners, admins and publishers run evaluations");
        }
        return p;
    }


    private void submit(Run run) {
        AtomicBoolean cancelled = new AtomicBoolean();
        cancels.put(run.jobId(), cancelled);
        try {
            executor.execute(() -> {
                try {
                    execution.execute(run, () -> cancelled.get() || closing, () -> closing);
                } catch (Exception e) { // NOPMD: a job's failure must not kill the pool's thread
                    LOG.error("evaluation job {} failed unexpectedly", run.jobId(), e);
                } finally {
                    cancels.remove(run.jobId());
                    admission.release(run.tenantId());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            cancels.remove(run.jobId());
            admission.release(run.tenantId());
            execution.finish(run.tenantId(), run.jobId(), run.actor(), JobState.FAILED, INTERRUPTED, null, null);
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
