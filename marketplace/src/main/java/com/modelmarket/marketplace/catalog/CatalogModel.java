package com.modelmarket.marketplace.catalog;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/** A catalog entry — a model or an algorithm — and its model card. */
public record CatalogModel(UUID id, UUID tenantId, ModelKind kind, String slug, String name, String summary,
                           String description, String task, List<String> tags, String license, String framework,
                           String visibility, JsonObject claimedMetrics, JsonObject algorithmSpec,
                           OffsetDateTime createdAt, OffsetDateTime updatedAt) {

    public static final List<String> KINDS = ModelKind.WIRE;
    public static final List<String> VISIBILITIES = List.of("public", "private", "shared");
    public static final List<String> TASKS = List.of("image-classification", "tabular-classification", "regression",
            "text-classification", "text-generation", "object-detection", "embedding", "other");

    static final String COLUMNS = "m.id, m.tenant_id, m.kind, m.slug, m.name, m.summary, m.description, m.task, m.tags, "
            + "m.license, m.framework, m.visibility, m.claimed_metrics, m.algorithm_spec, m.created_at, m.updated_at";

    static CatalogModel from(Row r) {
        return new CatalogModel(r.getUUID("id"), r.getUUID("tenant_id"),
                ModelKind.parse(r.getString("kind")).orElseThrow(), r.getString("slug"),
                r.getString("name"), r.getString("summary"), r.getString("description"), r.getString("task"),
                List.of(r.getArrayOfStrings("tags")), r.getString("license"), r.getString("framework"),
                r.getString("visibility"), (JsonObject) r.getValue("claimed_metrics"),
                (JsonObject) r.getValue("algorithm_spec"), r.getOffsetDateTime("created_at"),
                r.getOffsetDateTime("updated_at"));
    }

    public JsonObject toJson() {
        JsonObject json = new JsonObject()
                .put("id", id.toString())
                .put("kind", kind.wire())
                .put("slug", slug)
                .put("name", name)
                .put("summary", summary)
                .put("description", description)
                .put("task", task)
                .put("tags", new JsonArray(tags))
                .put("license", license)
                .put("framework", framework)
                .put("visibility", visibility)
                .put("claimedMetrics", claimedMetrics)
                .put("createdAt", createdAt.toInstant().toString())
                .put("updatedAt", updatedAt.toInstant().toString());
        if (algorithmSpec != null) {
            json.put("algorithm", algorithmSpec);
        }
        return json;
    }
}
