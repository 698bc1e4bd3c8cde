package com.modelmarket.marketplace.tenants;

import com.modelmarket.marketplace.tenants.Role;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A user of a tenant, as the API shows it (never the password hash). */
public record Member(UUID id, UUID tenantId, String email, String displayName, Role role,
                     OffsetDateTime createdAt, OffsetDateTime disabledAt) {

    static Member from(Row row) {
        return new Member(row.getUUID("id"), row.getUUID("tenant_id"), row.getString("email"),
                row.getString("display_name"), Role.fromDb(row.getString("role")),
                row.getOffsetDateTime("created_at"), row.getOffsetDateTime("disabled_at"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("email", email)
                .put("displayName", displayName)
                .put("role", role.dbName())
                .put("createdAt", createdAt.toInstant().toString())
                .put("disabled", disabledAt != null);
    }
}
