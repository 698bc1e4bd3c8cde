package com.modelmarket.marketplace.auth;

import com.modelmarket.marketplace.errors.UnauthorizedException;
import com.modelmarket.marketplace.http.JsonBody;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** {@code /api/v1/auth}: sign-up, login, refresh, logout, and who am I. */
public final class AuthRoutes {

    /** The cookie that carries the refresh token for the web UI. */
    public static final String REFRESH_COOKIE = "mm_refresh";

    private final AuthService auth;
    private final AccessTokenHandler authenticated;

    public AuthRoutes(AuthService auth, AccessTokenHandler authenticated) {
        this.auth = auth;
        this.authenticated = authenticated;
    }

    public void mount(Router router) {
        // the refresh cookie travels to every /api/v1/auth route: none may be used from another site
        router.route("/api/v1/auth/*").handler(CrossSiteGuard::handle);
        router.post("/api/v1/auth/signup").handler(this::signUp);
        router.post("/api/v1/auth/login").handler(this::login);
        router.post("/api/v1/auth/refresh").handler(this::refresh);
        router.post("/api/v1/auth/logout").handler(authenticated).handler(this::logout);
        router.get("/api/v1/me").handler(authenticated).handler(this::me);
    }

    private void signUp(RoutingContext ctx) {
        JsonBody body = JsonBody.of(ctx);
        String organisation = body.requiredString("organisation", 200);
        String email = body.requiredEmail("email");
        String displayName = body.optionalString("displayName", 200).orElse("");
        String password = body.requiredSecret("password", 10, 200);
        auth.signUp(organisation, email, displayName, password)
                .onSuccess(r -> setRefreshCookie(ctx, r.session()))
                .onSuccess(r -> Responses.json(ctx, 201, new JsonObject()
                        .put("tenant", r.tenant().toJson())
                        .put("user", r.owner().toJson())
                        .put("session", r.session().toJson())))
                .onFailure(ctx::fail);
    }

    private void login(RoutingContext ctx) {
        JsonBody body = JsonBody.of(ctx);
        String email = body.requiredEmail("email");
        String password = body.requiredSecret("password", 1, 200);
        auth.login(email, password, ctx.request().remoteAddress() == null ? "?" : ctx.request().remoteAddress().hostAddress())
                .onSuccess(session -> respondWithSession(ctx, 200, session))
                .onFailure(ctx::fail);
    }

    /** The refresh token comes in the body, or (for the web UI) in the HttpOnly cookie. */
    private void refresh(RoutingContext ctx) {
        Cookie cookie = ctx.request().getCookie(REFRESH_COOKIE);
        boolean hasBody = ctx.body().length() > 0;
        if (!hasBody && cookie == null) {
            ctx.fail(new UnauthorizedException("No refresh token: send it in the body or the session cookie"));
            return;
        }
        String token = hasBody || cookie == null
                ? JsonBody.of(ctx).requiredSecret("refreshToken", 1, 200) : cookie.getValue();
        auth.refresh(token)
                .onSuccess(session -> respondWithSession(ctx, 200, session))
                .onFailure(err -> {
                    clearRefreshCookie(ctx);
                    ctx.fail(err);
                });
    }

    private void logout(RoutingContext ctx) {
        auth.logout(Principal.of(ctx))
                .onSuccess(v -> {
                    clearRefreshCookie(ctx);
                    Responses.noContent(ctx);
                })
                .onFailure(ctx::fail);
    }

    private static void respondWithSession(RoutingContext ctx, int status, Session session) {
        setRefreshCookie(ctx, session);
        Responses.json(ctx, status, session.toJson());
    }

    /**
     * The web UI keeps the access token in memory only; the refresh token travels in this cookie,
     * which scripts cannot read and other sites cannot send.
     */
    private static void setRefreshCookie(RoutingContext ctx, Session session) {
        ctx.response().addCookie(Cookie.cookie(REFRESH_COOKIE, session.refreshToken())
                .setPath("/api/v1/auth").setHttpOnly(true).setSecure(true).setSameSite(CookieSameSite.STRICT)
                .setMaxAge(14 * 24 * 3600));
    }

    private static void clearRefreshCookie(RoutingContext ctx) {
        ctx.response().addCookie(Cookie.cookie(REFRESH_COOKIE, "").setPath("/api/v1/auth").setHttpOnly(true)
                .setSecure(true).setSameSite(CookieSameSite.STRICT).setMaxAge(0));
    }

    private void me(RoutingContext ctx) {
        Principal p = Principal.of(ctx);
        Responses.json(ctx, 200, new JsonObject()
                .put("userId", p.userId().toString())
                .put("tenantId", p.tenantId().toString())
                .put("role", p.role().dbName()));
    }
}
