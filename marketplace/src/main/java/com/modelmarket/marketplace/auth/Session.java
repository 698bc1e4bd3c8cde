package com.modelmarket.marketplace.auth;

import com.modelmarket.marketplace.tenants.Role;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/** The tokens handed out at login and on each refresh. */
public record Session(UUID userId, UUID tenantId, Role role, String accessToken, String refreshToken,
                      long expiresInSeconds) {

    public JsonObject toJson() {
        return new JsonObject()
                .put("tokenType", "Bearer")
                .put("accessToken", accessToken)
                .put("expiresIn", expiresInSeconds)
                .put("refreshToken", refreshToken)
                .put("userId", userId.toString())
                .put("tenantId", tenantId.toString())
                .put("role", role.dbName());
    }
}
