package com.modelmarket.marketplace.catalog;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.http.JsonBody;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;

/** {@code /api/v1/catalog} and {@code /api/v1/models}: browse, model cards, versions, aliases. */
public final class CatalogRoutes {

    private final CatalogService catalog;
    private final SearchService search;
    private final AccessTokenHandler authenticated;

    public CatalogRoutes(CatalogService catalog, SearchService search, AccessTokenHandler authenticated) {
        this.catalog = catalog;
        this.search = search;
        this.authenticated = authenticated;
    }

    public void mount(Router router) {
        AccessTokenHandler anyone = authenticated.optional();
        router.get("/api/v1/catalog").handler(anyone).handler(this::search);
        router.post("/api/v1/models").handler(authenticated).handler(this::create);
        router.get("/api/v1/models/:model").handler(anyone).handler(this::get);
        router.patch("/api/v1/models/:model").handler(authenticated).handler(this::update);
        router.post("/api/v1/models/:model/versions").handler(authenticated).handler(this::createVersion);
        router.post("/api/v1/models/:model/versions/:version/publish").handler(authenticated).handler(ctx -> state(ctx, VersionState.PUBLISHED));
        router.post("/api/v1/models/:model/versions/:version/deprecate").handler(authenticated).handler(ctx -> state(ctx, VersionState.DEPRECATED));
        router.post("/api/v1/models/:model/versions/:version/retire").handler(authenticated).handler(ctx -> state(ctx, VersionState.RETIRED));
        router.put("/api/v1/models/:model/aliases/:alias").handler(authenticated).handler(this::moveAlias);
        router.delete("/api/v1/models/:model/aliases/:alias").handler(authenticated).handler(this::deleteAlias);
    }

    private void search(RoutingContext ctx) {
        int limit;
        try {
            limit = Integer.parseInt(Optional.ofNullable(ctx.queryParams().get("limit")).orElse("20"));
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > 100) {
            throw new com.modelmarket.marketplace.errors.BadRequestException("limit must be a number from 1 to 100");
        }
        Optional<String> text = param(ctx, "q");
        SearchService.Query q = new SearchService.Query(text, param(ctx, "task"), param(ctx, "tag"),
                param(ctx, "publisher"), param(ctx, "priceType"), param(ctx, "framework"), param(ctx, "kind"),
                param(ctx, "sort").orElse(text.isPresent() ? "relevance" : "newest"), limit, param(ctx, "cursor"),
                param(ctx, "minMetric").map(CatalogRoutes::metricBound));
        search.search(Principal.optional(ctx).map(Principal::tenantId).orElse(null), q)
                .onSuccess(page -> Responses.json(ctx, 200, page))
                .onFailure(ctx::fail);
    }

    private static Double metricBound(String text) {
        try {
            double v = Double.parseDouble(text);
            if (Double.isFinite(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new com.modelmarket.marketplace.errors.InvalidFieldException("/minMetric", "must be a number");
    }

    private void create(RoutingContext ctx) {
        CatalogService.CardInput card = card(JsonBody.of(ctx));
        catalog.createModel(Actor.of(ctx), card)
                .onSuccess(m -> Responses.json(ctx, 201, m.toJson()))
                .onFailure(ctx::fail);
    }

    private void get(RoutingContext ctx) {
        catalog.modelPage(Principal.optional(ctx), ctx.pathParam("model"))
                .onSuccess(page -> Responses.json(ctx, 200, page))
                .onFailure(ctx::fail);
    }

    private void update(RoutingContext ctx) {
        CatalogService.CardInput card = card(JsonBody.of(ctx));
        catalog.updateModel(Actor.of(ctx), ctx.pathParam("model"), card)
                .onSuccess(m -> Responses.json(ctx, 200, m.toJson()))
                .onFailure(ctx::fail);
    }

    private void createVersion(RoutingContext ctx) {
        JsonBody body = JsonBody.of(ctx);
        catalog.createVersion(Actor.of(ctx), ctx.pathParam("model"), body.requiredString("version", 40),
                        body.optionalString("artifactSha256", 64), body.optionalObject("manifest"),
                        body.optionalString("bundleSha256", 64))
                .onSuccess(v -> Responses.json(ctx, 201, v.toJson()))
                .onFailure(ctx::fail);
    }

    private void state(RoutingContext ctx, VersionState target) {
        (target == VersionState.PUBLISHED
                ? catalog.publish(Actor.of(ctx), ctx.pathParam("model"), ctx.pathParam("version"), override(ctx))
                : catalog.changeState(Actor.of(ctx), ctx.pathParam("model"), ctx.pathParam("version"), target))
                .onSuccess(v -> Responses.json(ctx, 200, v.toJson()))
                .onFailure(ctx::fail);
    }

    private void moveAlias(RoutingContext ctx) {
        JsonBody body = JsonBody.of(ctx);
        String version = body.requiredString("version", 40);
        catalog.moveAlias(Actor.of(ctx), ctx.pathParam("model"), ctx.pathParam("alias"), version, override(body))
                .onSuccess(aliases -> Responses.json(ctx, 200, new JsonObject().put("aliases", new JsonObject(new java.util.LinkedHashMap<String, Object>(aliases)))))
                .onFailure(ctx::fail);
    }

    private void deleteAlias(RoutingContext ctx) {
        catalog.deleteAlias(Actor.of(ctx), ctx.pathParam("model"), ctx.pathParam("alias"))
                .onSuccess(v -> Responses.noContent(ctx))
                .onFailure(ctx::fail);
    }

    /** An optional body's {@code override} and {@code reason}: going past failing publish gates, audited. */
    public static Optional<GateOverride> override(RoutingContext ctx) {
        var buffer = ctx.body().buffer();
        return buffer == null || buffer.length() == 0 ? Optional.empty() : override(JsonBody.of(ctx));
    }

    public static Optional<GateOverride> override(JsonBody body) {
        Object flag = body.json().getValue("override");
        if (flag != null && !(flag instanceof Boolean)) {
            throw new com.modelmarket.marketplace.errors.InvalidFieldException("/override", "must be true or false");
        }
        return GateOverride.of(Boolean.TRUE.equals(flag), body.optionalText("reason", 500));
    }

    static CatalogService.CardInput card(JsonBody b) {
        return new CatalogService.CardInput(b.optionalString("kind", 20), b.optionalString("slug", 63),
                b.optionalString("name", 200), b.optionalText("summary", 500), b.optionalText("description", 100_000),
                b.optionalString("task", 60), b.optionalStringList("tags", 0, 20, 40),
                b.optionalText("license", 100), b.optionalString("framework", 40), b.optionalString("visibility", 20),
                b.optionalObject("claimedMetrics"), b.optionalObject("algorithm"),
                b.optionalStringList("sharedWith", 0, 100, 63));
    }

    private static Optional<String> param(RoutingContext ctx, String name) {
        String v = ctx.queryParams().get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
    }
}
