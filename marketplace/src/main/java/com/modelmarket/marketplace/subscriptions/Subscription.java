package com.modelmarket.marketplace.subscriptions;

import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A tenant's subscription to one plan of a model. */
public record Subscription(UUID id, UUID tenantId, UUID modelId, String modelSlug, UUID planId, String planName,
                           String planType, SubscriptionStatus status, OffsetDateTime startedAt, OffsetDateTime endedAt) {

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("modelId", modelId.toString())
                .put("model", modelSlug)
                .put("planId", planId.toString())
                .put("planName", planName)
                .put("planType", planType)
                .put("status", status.wireName())
                .put("startedAt", startedAt.toInstant().toString())
                .put("endedAt", endedAt == null ? null : endedAt.toInstant().toString());
    }
}
