package com.modelmarket.marketplace.apikeys;

import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.UUID;

/** A program calling with an API key: its tenant and what the key may do. */
public record KeyPrincipal(UUID keyId, UUID tenantId, List<String> scopes) {

    static final String KEY = "keyPrincipal";

    public static KeyPrincipal of(RoutingContext ctx) {
        KeyPrincipal principal = ctx.get(KEY);
        if (principal == null) {
            throw new IllegalStateException("route is not behind the API-key handler");
        }
        return principal;
    }
}
