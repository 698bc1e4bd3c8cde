package com.modelmarket.marketplace.apikeys;

import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.http.AccessLog;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.http.AccessLog;
import com.modelmarket.marketplace.errors.UnauthorizedException;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/** Authenticates a program by its API key ({@code Authorization: Bearer} or {@code X-API-Key}). */
public final class ApiKeyHandler implements Handler<RoutingContext> {

    private final ApiKeyService keys;
    private final String requiredScope;

    public ApiKeyHandler(ApiKeyService keys, String requiredScope) {
        this.keys = keys;
        this.requiredScope = requiredScope;
    }

    @Override
    public void handle(RoutingContext ctx) {
        String presented = ctx.request().getHeader("X-API-Key");
        if (presented == null) {
            presented = AccessTokenHandler.bearer(ctx);
        }
        if (presented == null) {
            ctx.fail(new UnauthorizedException("An API key is required (Authorization: Bearer <key> or X-API-Key)"));
            return;
        }
        keys.authenticate(presented.trim()).onSuccess(principal -> {
            if (!principal.scopes().contains(requiredScope)) {
                ctx.fail(new ForbiddenException("This API key lacks the '" + requiredScope + "' scope"));
                return;
            }
            ctx.put(KeyPrincipal.KEY, principal);
            AccessLog.tenant(ctx, principal.tenantId());
            ctx.next();
        }).onFailure(ctx::fail);
    }
}
