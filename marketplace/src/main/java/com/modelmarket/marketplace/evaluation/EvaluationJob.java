package com.modelmarket.marketplace.evaluation;

import com.modelmarket.marketplace.training.JobState;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * An evaluation job as stored: the version it measures (and the second version of a comparison),
 * the dataset as it was when the job was made, the resolved column mapping, its state and progress,
 * and its result once it succeeded. States are training's: {@code queued → running → succeeded |
 * failed | cancelled}.
 */
public record EvaluationJob(UUID id, UUID tenantId, UUID modelId, String modelSlug, UUID versionId, String version,
                            UUID compareVersionId, String compareVersion, UUID datasetId, JsonObject dataset,
                            JsonObject mapping, boolean reference, String ranBy, JobState state, String reason,
                            JsonObject progress, JsonObject result, OffsetDateTime createdAt, OffsetDateTime startedAt,
                            OffsetDateTime finishedAt) {

    static final String COLUMNS = "j.id, j.tenant_id, j.model_id, m.slug AS model_slug, j.version_id, v.version, "
            + "j.compare_version_id, cv.version AS compare_version, j.dataset_id, j.dataset, j.mapping, j.reference, "
            + "(m.tenant_id = j.tenant_id) AS own, j.state, j.reason, j.progress, j.result, j.created_at, j.started_at, "
            + "j.finished_at";

    /** The joins {@link #COLUMNS} reads from, after {@code FROM evaluation_jobs j}. */
    static final String JOINS = " LEFT JOIN models m ON m.id = j.model_id LEFT JOIN model_versions v ON v.id = j.version_id "
            + "LEFT JOIN model_versions cv ON cv.id = j.compare_version_id";

    static EvaluationJob from(Row r) {
        return new EvaluationJob(r.getUUID("id"), r.getUUID("tenant_id"), r.getUUID("model_id"), r.getString("model_slug"),
                r.getUUID("version_id"), r.getString("version"), r.getUUID("compare_version_id"), r.getString("compare_version"),
                r.getUUID("dataset_id"), (JsonObject) r.getValue("dataset"), (JsonObject) r.getValue("mapping"),
                r.getBoolean("reference"), Boolean.TRUE.equals(r.getBoolean("own")) ? "publisher" : "subscriber",
                JobState.valueOf(r.getString("state").toUpperCase(java.util.Locale.ROOT)), r.getString("reason"),
                (JsonObject) r.getValue("progress"), (JsonObject) r.getValue("result"), r.getOffsetDateTime("created_at"),
                r.getOffsetDateTime("started_at"), r.getOffsetDateTime("finished_at"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("model", modelSlug)
                .put("version", version)
                .put("compareWith", compareVersion)
                .put("datasetId", datasetId == null ? null : datasetId.toString())
                .put("dataset", dataset)
                .put("mapping", mapping)
                .put("reference", reference)
                .put("ranBy", ranBy)
                .put("state", state.wire())
                .put("reason", reason)
                .put("progress", progress)
                .put("result", result)
                .put("createdAt", createdAt.toInstant().toString())
                .put("startedAt", startedAt == null ? null : startedAt.toInstant().toString())
                .put("finishedAt", finishedAt == null ? null : finishedAt.toInstant().toString());
    }
}
