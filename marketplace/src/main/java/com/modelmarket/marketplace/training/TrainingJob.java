package com.modelmarket.marketplace.training;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A training job as stored: what it trains, its state and progress, and its result once it succeeded. */
public record TrainingJob(UUID id, UUID tenantId, UUID algorithmId, String algorithmSlug, UUID subscriptionId, UUID datasetId,
                          JsonObject recipe, JsonObject hyperparameters, String targetSlug, String targetVersion, JobState state,
                          String reason, JsonObject progress, JsonArray curve, JsonObject result, UUID resultModelId,
                          UUID resultVersionId, OffsetDateTime createdAt, OffsetDateTime startedAt, OffsetDateTime finishedAt) {

    static final String COLUMNS = "j.id, j.tenant_id, j.algorithm_id, (SELECT m.slug FROM models m WHERE m.id = j.algorithm_id) "
            + "AS algorithm_slug, j.subscription_id, j.dataset_id, j.recipe, j.hyperparameters, j.target_slug, j.target_version, "
            + "j.state, j.reason, j.progress, j.curve, j.result, j.result_model_id, j.result_version_id, j.created_at, "
            + "j.started_at, j.finished_at";

    static TrainingJob from(Row r) {
        return new TrainingJob(r.getUUID("id"), r.getUUID("tenant_id"), r.getUUID("algorithm_id"), r.getString("algorithm_slug"),
                r.getUUID("subscription_id"), r.getUUID("dataset_id"), (JsonObject) r.getValue("recipe"),
                (JsonObject) r.getValue("hyperparameters"), r.getString("target_slug"), r.getString("target_version"),
                JobState.parse(r.getString("state")), r.getString("reason"), (JsonObject) r.getValue("progress"),
                (JsonArray) r.getValue("curve"), (JsonObject) r.getValue("result"), r.getUUID("result_model_id"),
                r.getUUID("result_version_id"), r.getOffsetDateTime("created_at"), r.getOffsetDateTime("started_at"),
                r.getOffsetDateTime("finished_at"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("algorithm", algorithmSlug)
                .put("algorithmId", algorithmId.toString())
                .put("datasetId", datasetId == null ? null : datasetId.toString())
                .put("hyperparameters", hyperparameters)
                .put("target", new JsonObject().put("model", targetSlug).put("version", targetVersion))
                .put("state", state.wire())
                .put("reason", reason)
                .put("progress", progress)
                .put("curve", curve == null ? new JsonArray() : curve)
                .put("result", result)
                .put("modelId", resultModelId == null ? null : resultModelId.toString())
                .put("versionId", resultVersionId == null ? null : resultVersionId.toString())
                .put("createdAt", createdAt.toInstant().toString())
                .put("startedAt", startedAt == null ? null : startedAt.toInstant().toString())
                .put("finishedAt", finishedAt == null ? null : finishedAt.toInstant().toString());
    }
}
