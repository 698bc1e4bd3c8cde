package com.modelmarket.marketplace.training;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A tenant's parsed CSV: what training jobs read, with the summary shown before training. */
public record Dataset(UUID id, UUID tenantId, String name, String sha256, long sizeBytes, String task, String labelColumn,
                      int rowCount, JsonObject summary, OffsetDateTime createdAt) {

    static final String COLUMNS = "d.id, d.tenant_id, d.name, d.sha256, d.size_bytes, d.task, d.label_column, d.row_count, "
            + "d.summary, d.created_at";

    static Dataset from(Row r) {
        return new Dataset(r.getUUID("id"), r.getUUID("tenant_id"), r.getString("name"), r.getString("sha256"),
                r.getLong("size_bytes"), r.getString("task"), r.getString("label_column"), r.getInteger("row_count"),
                (JsonObject) r.getValue("summary"), r.getOffsetDateTime("created_at"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("name", name)
                .put("task", task)
                .put("labelColumn", labelColumn)
                .put("rows", rowCount)
                .put("sha256", sha256)
                .put("sizeBytes", sizeBytes)
                .put("columns", summary.getJsonArray("columns"))
                .put("features", summary.getJsonArray("features"))
                .put("classes", summary.getJsonArray("classes"))
                .put("preview", summary.getJsonObject("preview"))
                .put("createdAt", createdAt.toInstant().toString());
    }
}
