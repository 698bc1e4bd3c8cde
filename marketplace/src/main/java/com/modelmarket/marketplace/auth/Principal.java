package com.modelmarket.marketplace.auth;

import com.modelmarket.marketplace.tenants.Role;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * Who is calling, as established by an access token (a person) — the only source of the tenant
 * id for queries on tenant data.
 */
public record Principal(UUID userId, UUID tenantId, Role role, UUID sessionId) {

    static final String KEY = "principal";

    /** The authenticated person, if any (routes behind the optional access-token handler). */
    public static java.util.Optional<Principal> optional(RoutingContext ctx) {
        return java.util.Optional.ofNullable(ctx.get(KEY));
    }

    /** The authenticated person of {@code ctx}; the JWT handler put it there. */
    public static Principal of(RoutingContext ctx) {
        Principal principal = ctx.get(KEY);
        if (principal == null) {
            throw new IllegalStateException("route is not behind the access-token handler");
        }
        return principal;
    }
}
