package com.modelmarket.marketplace.training;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The {@code training_jobs} table. Every statement is filtered by the job's tenant; state changes
 * are guarded by the state they leave, so a job that was cancelled meanwhile is not moved on.
 */
final class TrainingJobRepository {

    private final JobRunner runner;

    TrainingJobRepository(JobRunner runner) {
        this.runner = runner;
    }

    Future<TrainingJob> insert(SqlClient tx, UUID tenantId, UUID algorithmId, UUID subscriptionId, UUID datasetId,
                               JsonObject recipe, JsonObject hyperparameters, String targetSlug, String targetVersion,
                               UUID createdBy) {
        return tx.preparedQuery("INSERT INTO training_jobs AS j (tenant_id, algorithm_id, subscription_id, dataset_id, recipe, "
                        + "hyperparameters, target_slug, target_version, state, created_by, runner_node) "
                        + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10) RETURNING " + TrainingJob.COLUMNS)
                .execute(Tuple.from(new Object[] {tenantId, algorithmId, subscriptionId, datasetId, recipe, hyperparameters,
                        targetSlug, targetVersion, createdBy, runner.nodeId()}))
                .map(rows -> TrainingJob.from(rows.iterator().next()));
    }

    Future<Optional<TrainingJob>> find(SqlClient c, UUID tenantId, UUID id) {
        return c.preparedQuery("SELECT " + TrainingJob.COLUMNS + " FROM training_jobs j WHERE j.tenant_id = $1 AND j.id = $2")
                .execute(Tuple.of(tenantId, id))
                .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(TrainingJob.from(rows.iterator().next())));
    }

    Future<List<TrainingJob>> list(SqlClient c, UUID tenantId) {
        return c.preparedQuery("SELECT " + TrainingJob.COLUMNS + " FROM training_jobs j WHERE j.tenant_id = $1 "
                        + "ORDER BY j.created_at DESC, j.id LIMIT 200")
                .execute(Tuple.of(tenantId))
                .map(rows -> {
                    List<TrainingJob> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(TrainingJob.from(r));
                    }
                    return out;
                });
    }

    /** queued → running; false if the job is no longer queued (cancelled meanwhile). */
    Future<Boolean> start(SqlClient tx, UUID tenantId, UUID id) {
        return tx.preparedQuery("UPDATE training_jobs SET state = 'running', started_at = now() "
                        + "WHERE tenant_id = $1 AND id = $2 AND state = 'queued'")
                .execute(Tuple.of(tenantId, id)).map(r -> r.rowCount() == 1);
    }

    /** The latest epoch's figures, appended to the curve. */
    Future<Void> progress(SqlClient tx, UUID tenantId, UUID id, JsonObject progress) {
        return tx.preparedQuery("UPDATE training_jobs SET progress = $3, curve = curve || jsonb_build_array($3::jsonb) "
                        + "WHERE tenant_id = $1 AND id = $2 AND state = 'running'")
                .execute(Tuple.of(tenantId, id, progress)).mapEmpty();
    }

    /** Ends an open job (queued or running) in {@code state}; false if it had ended already. */
    Future<Boolean> finish(SqlClient tx, UUID tenantId, UUID id, JobState state, String reason, JsonObject result,
                           UUID modelId, UUID versionId) {
        return tx.preparedQuery("UPDATE training_jobs SET state = $3, reason = $4, result = $5, result_model_id = $6, "
                        + "result_version_id = $7, finished_at = now() WHERE tenant_id = $1 AND id = $2 "
                        + "AND state IN ('queued', 'running')")
                .execute(Tuple.from(new Object[] {tenantId, id, state.wire(), reason, result, modelId, versionId}))
                .map(r -> r.rowCount() == 1);
    }

    /**
     * Meters a succeeded job: one row per job id (a second call adds nothing), in the same transaction
     * as its end, so a job is billed once and only if it succeeded.
     */
    Future<Void> meter(SqlClient tx, UUID tenantId, UUID jobId, UUID algorithmId, UUID subscriptionId, long computeMillis) {
        return tx.preparedQuery("INSERT INTO training_usage (job_id, tenant_id, algorithm_id, subscription_id, compute_millis, "
                        + "occurred_at) VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (job_id) DO NOTHING")
                .execute(Tuple.of(jobId, tenantId, algorithmId, subscriptionId, computeMillis)).mapEmpty();
    }

    /** Training compute a tenant used with an algorithm since {@code since} (a free plan's month). */
    Future<Long> usedMillisSince(SqlClient c, UUID tenantId, UUID algorithmId, java.time.Instant since) {
        return c.preparedQuery("SELECT coalesce(sum(compute_millis), 0)::bigint FROM training_usage WHERE tenant_id = $1 "
                        + "AND algorithm_id = $2 AND occurred_at >= $3")
                .execute(Tuple.of(tenantId, algorithmId, since.atOffset(java.time.ZoneOffset.UTC)))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    /**
     * At start: every job left open by a process that is gone (not a live cluster member; without a
     * cluster, every earlier run) ends as failed; their tenants and ids, for the audit log.
     */
    Future<List<UUID[]>> failInterrupted(SqlClient tx, String reason) {
        return tx.preparedQuery("UPDATE training_jobs SET state = 'failed', reason = $1, finished_at = now() "
                        + "WHERE state IN ('queued', 'running') AND (runner_node IS NULL OR runner_node <> ALL($2)) "
                        + "RETURNING tenant_id, id")
                .execute(Tuple.tuple().addString(reason).addArrayOfString(runner.liveNodes().get().toArray(String[]::new)))
                .map(rows -> {
                    List<UUID[]> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(new UUID[] {r.getUUID("tenant_id"), r.getUUID("id")});
                    }
                    return out;
                });
    }
}
