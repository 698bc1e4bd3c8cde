package com.modelmarket.marketplace.auth;

import com.modelmarket.marketplace.http.AccessLog;
import com.modelmarket.marketplace.errors.UnauthorizedException;
import com.modelmarket.marketplace.tenants.TenantRepository;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Authenticates a person by the access token in {@code Authorization: Bearer}. Besides the
 * token's own checks, the session must still be open and the user enabled; the role comes from
 * the database, so a role change or a logout takes effect at once.
 */
public final class AccessTokenHandler implements Handler<RoutingContext> {

    private final TokenService tokens;
    private final TenantRepository tenants;
    private final boolean optional;

    public AccessTokenHandler(TokenService tokens, TenantRepository tenants) {
        this(tokens, tenants, false);
    }

    private AccessTokenHandler(TokenService tokens, TenantRepository tenants, boolean optional) {
        this.tokens = tokens;
        this.tenants = tenants;
        this.optional = optional;
    }

    /** A handler that lets anonymous callers through, and authenticates those who send a token. */
    public AccessTokenHandler optional() {
        return new AccessTokenHandler(tokens, tenants, true);
    }

    @Override
    public void handle(RoutingContext ctx) {
        String token = bearer(ctx);
        if (token == null && optional) {
            ctx.next();
            return;
        }
        if (token == null) {
            ctx.fail(new UnauthorizedException("An access token is required (Authorization: Bearer <token>)"));
            return;
        }
        tokens.verify(token)
                .compose(claims -> tenants.activeSessionRole(claims.tenantId(), claims.userId(), claims.sessionId())
                        .map(role -> role.map(r -> new Principal(claims.userId(), claims.tenantId(), r, claims.sessionId()))
                                .orElseThrow(() -> new UnauthorizedException("The session has ended; log in again"))))
                .onSuccess(principal -> {
                    ctx.put(Principal.KEY, principal);
                    AccessLog.tenant(ctx, principal.tenantId());
                    ctx.next();
                })
                .onFailure(ctx::fail);
    }

    /** The token of an {@code Authorization: Bearer} header, or null. */
    public static String bearer(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        if (header == null || header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = header.substring(7).trim();
        return token.isEmpty() ? null : token;
    }
}
