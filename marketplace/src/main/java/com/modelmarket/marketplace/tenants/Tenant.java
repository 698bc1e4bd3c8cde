package com.modelmarket.marketplace.tenants;

import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.UUID;

/** An organisation: the unit of isolation, subscription and billing. */
public record Tenant(UUID id, String name, String slug, OffsetDateTime createdAt) {

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("name", name)
                .put("slug", slug)
                .put("createdAt", createdAt.toInstant().toString());
    }
}
