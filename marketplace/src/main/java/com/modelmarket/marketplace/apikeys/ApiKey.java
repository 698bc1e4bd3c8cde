package com.modelmarket.marketplace.apikeys;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/** An API key as listed: never its secret, only a prefix and the last four characters. */
public record ApiKey(UUID id, UUID tenantId, String name, String prefix, String lastFour, List<String> scopes,
                     OffsetDateTime createdAt, OffsetDateTime expiresAt, OffsetDateTime revokedAt,
                     OffsetDateTime lastUsedAt) {

    static final String COLUMNS =
            "id, tenant_id, name, prefix, last_four, scopes, created_at, expires_at, revoked_at, last_used_at";

    static ApiKey from(Row row) {
        return new ApiKey(row.getUUID("id"), row.getUUID("tenant_id"), row.getString("name"),
                row.getString("prefix"), row.getString("last_four"), List.of(row.getArrayOfStrings("scopes")),
                row.getOffsetDateTime("created_at"), row.getOffsetDateTime("expires_at"),
                row.getOffsetDateTime("revoked_at"), row.getOffsetDateTime("last_used_at"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("name", name)
                .put("prefix", prefix)
                .put("lastFour", lastFour)
                .put("scopes", new JsonArray(scopes))
                .put("createdAt", createdAt.toInstant().toString())
                .put("expiresAt", expiresAt == null ? null : expiresAt.toInstant().toString())
                .put("revokedAt", revokedAt == null ? null : revokedAt.toInstant().toString())
                .put("lastUsedAt", lastUsedAt == null ? null : lastUsedAt.toInstant().toString());
    }
}
