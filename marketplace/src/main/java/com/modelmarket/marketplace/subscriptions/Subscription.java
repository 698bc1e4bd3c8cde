package com.modelmarket.marketplace.subscriptions;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A tenant's subscription to one plan of a model. */
public record Subscription(UUID id, UUID tenantId, UUID modelId, String modelSlug, UUID planId, String planName,
                           String planType, String status, OffsetDateTime startedAt, OffsetDateTime endedAt) {

    static final String SELECT = "SELECT s.id, s.tenant_id, s.model_id, m.slug AS model_slug, s.plan_id, p.name AS plan_name, "
            + "p.type AS plan_type, s.status, s.started_at, s.ended_at FROM subscriptions s "
            + "JOIN models m ON m.id = s.model_id JOIN plans p ON p.id = s.plan_id ";

    static Subscription from(Row r) {
        return new Subscription(r.getUUID("id"), r.getUUID("tenant_id"), r.getUUID("model_id"), r.getString("model_slug"),
                r.getUUID("plan_id"), r.getString("plan_name"), r.getString("plan_type"), r.getString("status"),
                r.getOffsetDateTime("started_at"), r.getOffsetDateTime("ended_at"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("modelId", modelId.toString())
                .put("model", modelSlug)
                .put("planId", planId.toString())
                .put("planName", planName)
                .put("planType", planType)
                .put("status", status)
                .put("startedAt", startedAt.toInstant().toString())
                .put("endedAt", endedAt == null ? null : endedAt.toInstant().toString());
    }
}
