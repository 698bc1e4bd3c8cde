package com.modelmarket.marketplace.evaluation;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.config.EvaluationSettings;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.inference.InferenceService;
import com.modelmarket.marketplace.inference.InferenceTarget;
import com.modelmarket.marketplace.training.DatasetService;
import com.modelmarket.marketplace.training.JobState;
import com.modelmarket.serving.training.CsvDataset;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one queued evaluation job on an evaluation thread: reads the dataset (blocking, here), passes
 * its rows through the version (and then the compared version) with {@link EvaluationRun}, computes
 * the figures and ends the job — succeeded with its result, and for a reference job with the
 * measurement published on the model's card in the same transaction; or cancelled, or failed saying
 * why. Blocking waits on the database are fine on this thread, never on an event loop.
 */
final class EvaluationExecution {

    private static final Logger LOG = LoggerFactory.getLogger(EvaluationExecution.class);
    private static final long PROGRESS_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final Vertx vertx;
    private final Pool pool;
    private final InferenceService inference;
    private final DatasetService datasets;
    private final AuditLog audit;
    private final EvaluationSettings settings;
    private final EvaluationJobRepository jobs;

    EvaluationExecution(Vertx vertx, Pool pool, InferenceService inference, DatasetService datasets, AuditLog audit,
                        EvaluationSettings settings, EvaluationJobRepository jobs) {
        this.vertx = vertx;
        this.pool = pool;
        this.inference = inference;
        this.datasets = datasets;
        this.audit = audit;
        this.settings = settings;
        this.jobs = jobs;
    }

    void execute(EvaluationService.Run run, BooleanSupplier stop, BooleanSupplier closing) throws Exception {
        UUID tenant = run.tenantId();
        boolean started = await(TenantScope.tenant(pool, tenant, tx -> jobs.start(tx, tenant, run.jobId()).compose(ok -> ok
                ? audit.record(tx, tenant, run.actor(), "evaluation.start", "evaluation_job", run.jobId(), new JsonObject()).map(true)
                : Future.succeededFuture(false))));
        if (!started || closing.getAsBoolean()) {
            return; // cancelled while it waited, or the node is stopping (the next start marks it interrupted)
        }
        AtomicReference<Future<Void>> writes = new AtomicReference<>(Future.succeededFuture());
        try {
            CsvDataset data;
            try {
                data = datasets.load(run.dataset());
            } catch (com.modelmarket.serving.training.DatasetRefusedException e) {
                throw new IllegalStateException("the dataset cannot be read any more: " + e.getMessage(), e);
            }
            // one context per job: its requests are submitted and complete there, never on this thread
            EvaluationRun runner = new EvaluationRun(inference, vertx.getOrCreateContext(), settings.inFlight(),
                    settings.rowsPerRequest());
            long deadline = System.nanoTime() + settings.maxJobTime().toNanos();
            int passes = run.other() == null ? 1 : 2;
            EvaluationRun.Outcome base = pass(runner, run, run.target(), run.mapping(), data, stop, deadline, 1, passes, writes);
            JsonObject metrics = metrics(run.mapping(), data, base.scores());
            JsonObject result = new JsonObject()
                    .put("dataset", datasetJson(run, data))
                    .put("measuredBy", "platform")
                    .put("ranBy", run.target().own() ? "publisher" : "subscriber")
                    .put("version", run.target().version().version())
                    .put("metrics", metrics)
                    .put("serving", base.serving());
            if (run.other() != null) {
                EvaluationRun.Outcome other = pass(runner, run, run.other(), run.otherMapping(), data, stop, deadline, 2, passes, writes);
                JsonObject otherMetrics = metrics(run.otherMapping(), data, other.scores());
                result.put("comparison", new JsonObject()
                        .put("version", run.other().version().version())
                        .put("metrics", otherMetrics)
                        .put("serving", other.serving())
                        .put("deltas", EvaluationMetrics.deltas(metrics, otherMetrics))
                        .put("disagreements", Disagreements.of(run.mapping(), data, base.scores(), other.scores(),
                                settings.disagreementsShown())));
            }
            awaitQuietly(writes.get());
            await(finish(tenant, run.jobId(), run.actor(), JobState.SUCCEEDED, null, result,
                    run.reference() ? run : null));
            LOG.info("evaluation job {} of {}@{} succeeded: {} rows", run.jobId(), run.target().model().slug(),
                    run.target().version().version(), data.rowCount());
        } catch (EvaluationRun.Stopped e) {
            awaitQuietly(writes.get());
            boolean cancelled = e.cancelled() && !closing.getAsBoolean();
            String reason = closing.getAsBoolean() ? EvaluationService.INTERRUPTED : cancelled ? "cancelled"
                    : "time limit".equals(e.getMessage()) ? "time limit: the job ran past " + settings.maxJobTime().toSeconds() + " s"
                    : e.getMessage();
            awaitQuietly(finish(tenant, run.jobId(), run.actor(), cancelled ? JobState.CANCELLED : JobState.FAILED, reason, null, null));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            awaitQuietly(finish(tenant, run.jobId(), run.actor(), JobState.FAILED, EvaluationService.INTERRUPTED, null, null));
        } catch (Exception e) { // NOPMD: whatever went wrong, the job ends and says why
            awaitQuietly(writes.get());
            LOG.warn("evaluation job {} failed: {}", run.jobId(), e.toString());
            awaitQuietly(finish(tenant, run.jobId(), run.actor(), JobState.FAILED,
                    closing.getAsBoolean() ? EvaluationService.INTERRUPTED : "the job failed: " + message(e), null, null));
        }
    }

    /** One version's pass, writing progress ({@code {pass, passes, version, rows, rowsDone}}) at most twice a second. */
    private EvaluationRun.Outcome pass(EvaluationRun runner, EvaluationService.Run run, InferenceTarget target,
                                       ColumnMapping mapping, CsvDataset data, BooleanSupplier stop, long deadline, int pass,
                                       int passes, AtomicReference<Future<Void>> writes) throws Exception {
        long[] last = {0};
        UUID tenant = run.tenantId();
        return runner.run(tenant, run.jobId(), target, mapping, data, stop, deadline, done -> {
            long now = System.nanoTime();
            if (now - last[0] < PROGRESS_EVERY_NANOS && done < data.rowCount()) {
                return;
            }
            last[0] = now;
            JsonObject progress = new JsonObject().put("pass", pass).put("passes", passes)
                    .put("version", target.version().version()).put("rows", data.rowCount()).put("rowsDone", done);
            writes.updateAndGet(previous -> previous.transform(ar -> TenantScope.tenant(pool, tenant,
                    tx -> jobs.progress(tx, tenant, run.jobId(), progress))));
        });
    }

    static JsonObject metrics(ColumnMapping mapping, CsvDataset data, double[][] scores) {
        int n = data.rowCount();
        if (mapping.classification()) {
            int[] actual = new int[n];
            for (int r = 0; r < n; r++) {
                actual[r] = mapping.actualClass(data, r);
            }
            return EvaluationMetrics.classification(mapping.labels(), actual, scores);
        }
        double[] actual = new double[n];
        double[] predicted = new double[n];
        for (int r = 0; r < n; r++) {
            actual[r] = data.target(r);
            predicted[r] = scores[r][0];
        }
        return EvaluationMetrics.regression(actual, predicted);
    }

    private static JsonObject datasetJson(EvaluationService.Run run, CsvDataset data) {
        return new JsonObject().put("id", run.dataset().id().toString()).put("name", run.dataset().name())
                .put("rows", data.rowCount()).put("sha256", run.dataset().sha256());
    }

    /**
     * Ends an open job, audited; a succeeded reference job ({@code published} not null) also puts its
     * measurement on the model's card, in the same transaction.
     */
    Future<Void> finish(UUID tenant, UUID jobId, Actor actor, JobState state, String reason, JsonObject result,
                        EvaluationService.Run published) {
        return TenantScope.tenant(pool, tenant, tx -> jobs.finish(tx, tenant, jobId, state, reason, result)
                .compose(ended -> ended && published != null
                        ? jobs.publishMeasurement(tx, tenant, jobId, published.target().model().id(),
                                published.target().version().id(), result.getJsonObject("dataset"), result.getJsonObject("metrics")).map(true)
                        : Future.succeededFuture(ended))
                .compose(ended -> ended ? audit.record(tx, tenant, actor, "evaluation." + switch (state) {
                    case SUCCEEDED -> "succeed";
                    case CANCELLED -> "cancel";
                    default -> "fail";
                }, "evaluation_job", jobId, new JsonObject().put("state", state.wire()).put("reason", reason))
                        : Future.succeededFuture()));
    }

    private static String message(Throwable e) {
        Throwable cause = e;
        while (cause instanceof java.util.concurrent.ExecutionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
    }

    private static void awaitQuietly(Future<?> future) {
        try {
            future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) { // NOPMD: progress and bookkeeping writes are best effort here
            LOG.debug("evaluation bookkeeping write failed: {}", e.toString());
        }
    }
}
