package com.modelmarket.marketplace.audit;

import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.http.RequestIds;
import io.vertx.ext.web.RoutingContext;

/** Who does something, and from where: what the audit log records besides the action. */
public record Actor(Principal principal, String clientAddress, String requestId) {

    public static Actor of(RoutingContext ctx) {
        var remote = ctx.request().remoteAddress();
        return new Actor(Principal.of(ctx), remote == null ? null : remote.hostAddress(), RequestIds.of(ctx));
    }

    /** An actor for work the platform does itself (the demo catalog). */
    public static Actor system(Principal principal) {
        return new Actor(principal, "local", null);
    }
}
