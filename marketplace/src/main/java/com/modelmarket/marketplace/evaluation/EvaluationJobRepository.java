package com.modelmarket.marketplace.evaluation;

import com.modelmarket.marketplace.training.JobState;
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
 * The {@code evaluation_jobs} and {@code platform_measurements} tables. Every statement on jobs is
 * filtered by the job's tenant; state changes are guarded by the state they leave, so a job that was
 * cancelled meanwhile is not moved on.
 */
final class EvaluationJobRepository {

    private final com.modelmarket.marketplace.training.JobRunner runner;

    EvaluationJobRepository(com.modelmarket.marketplace.training.JobRunner runner) {
        this.runner = runner;
    }

    Future<UUID> insert(SqlClient tx, UUID tenantId, UUID modelId, UUID versionId, UUID compareVersionId, UUID datasetId,
                        JsonObject dataset, JsonObject mapping, boolean reference, UUID createdBy) {
        return tx.preparedQuery("INSERT INTO evaluation_jobs (tenant_id, model_id, version_id, compare_version_id, dataset_id, "
                        + "dataset, mapping, reference, state, created_by, runner_node) "
                        + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10) RETURNING id")
                .execute(Tuple.from(new Object[] {tenantId, modelId, versionId, compareVersionId, datasetId, dataset, mapping,
                        reference, createdBy, runner.nodeId()}))
                .map(rows -> rows.iterator().next().getUUID("id"));
    }

    Future<Optional<EvaluationJob>> find(SqlClient c, UUID tenantId, UUID id) {
        return c.preparedQuery("SELECT " + EvaluationJob.COLUMNS + " FROM evaluation_jobs j" + EvaluationJob.JOINS
                        + " WHERE j.tenant_id = $1 AND j.id = $2")
                .execute(Tuple.of(tenantId, id))
                .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(EvaluationJob.from(rows.iterator().next())));
    }

    Future<List<EvaluationJob>> list(SqlClient c, UUID tenantId) {
        return c.preparedQuery("SELECT " + EvaluationJob.COLUMNS + " FROM evaluation_jobs j" + EvaluationJob.JOINS
                        + " WHERE j.tenant_id = $1 ORDER BY j.created_at DESC, j.id LIMIT 200")
                .execute(Tuple.of(tenantId))
                .map(rows -> {
                    List<EvaluationJob> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(EvaluationJob.from(r));
                    }
                    return out;
                });
    }

    /** queued → running; false if the job is no longer queued (cancelled meanwhile). */
    Future<Boolean> start(SqlClient tx, UUID tenantId, UUID id) {
        return tx.preparedQuery("UPDATE evaluation_jobs SET state = 'running', started_at = now() "
                        + "WHERE tenant_id = $1 AND id = $2 AND state = 'queued'")
                .execute(Tuple.of(tenantId, id)).map(r -> r.rowCount() == 1);
    }

    Future<Void> progress(SqlClient tx, UUID tenantId, UUID id, JsonObject progress) {
        return tx.preparedQuery("UPDATE evaluation_jobs SET progress = $3 WHERE tenant_id = $1 AND id = $2 AND state = 'running'")
                .execute(Tuple.of(tenantId, id, progress)).mapEmpty();
    }

    /** Ends an open job (queued or running) in {@code state}; false if it had ended already. */
    Future<Boolean> finish(SqlClient tx, UUID tenantId, UUID id, JobState state, String reason, JsonObject result) {
        return tx.preparedQuery("UPDATE evaluation_jobs SET state = $3, reason = $4, result = $5, finished_at = now() "
                        + "WHERE tenant_id = $1 AND id = $2 AND state IN ('queued', 'running')")
                .execute(Tuple.from(new Object[] {tenantId, id, state.wire(), reason, result}))
                .map(r -> r.rowCount() == 1);
    }

    /** A reference job's result, published on the model's card (in the transaction that records its success). */
    Future<Void> publishMeasurement(SqlClient tx, UUID tenantId, UUID evaluationId, UUID modelId, UUID versionId,
                                    JsonObject dataset, JsonObject metrics) {
        return tx.preparedQuery("INSERT INTO platform_measurements (evaluation_id, tenant_id, model_id, version_id, dataset, "
                        + "metrics) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (evaluation_id) DO NOTHING")
                .execute(Tuple.of(evaluationId, tenantId, modelId, versionId, dataset, metrics)).mapEmpty();
    }

    /** At start: every job left open by a process that is gone ends as failed (as training's); their tenants and ids. */
    Future<List<UUID[]>> failInterrupted(SqlClient tx, String reason) {
        return tx.preparedQuery("UPDATE evaluation_jobs SET state = 'failed', reason = $1, finished_at = now() "
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
