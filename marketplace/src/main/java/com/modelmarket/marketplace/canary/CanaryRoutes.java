package com.modelmarket.marketplace.canary;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.catalog.AliasSplit;
import com.modelmarket.marketplace.catalog.CatalogRoutes;
import com.modelmarket.marketplace.catalog.SplitService;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.http.JsonBody;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** {@code /api/v1/models/{model}/aliases/{alias}/split}: a canary split, for the model's publisher only. */
public final class CanaryRoutes {

    private final CanaryService canary;
    private final AccessTokenHandler authenticated;

    public CanaryRoutes(CanaryService canary, AccessTokenHandler authenticated) {
        this.canary = canary;
        this.authenticated = authenticated;
    }

    public void mount(Router router) {
        String split = "/api/v1/models/:model/aliases/:alias/split";
        router.get(split).handler(authenticated).handler(this::view);
        router.put(split).handler(authenticated).handler(this::start);
        router.post(split + "/promote").handler(authenticated).handler(this::promote);
        router.post(split + "/rollback").handler(authenticated).handler(this::rollBack);
    }

    private void view(RoutingContext ctx) {
        canary.view(Actor.of(ctx), ctx.pathParam("model"), ctx.pathParam("alias"))
                .onSuccess(json -> Responses.json(ctx, 200, json))
                .onFailure(ctx::fail);
    }

    private void start(RoutingContext ctx) {
        JsonBody body = JsonBody.of(ctx);
        long percent = body.longValue("percent", -1, 1, 99);
        if (percent < 0) {
            throw new InvalidFieldException("/percent", "is required: the canary's share of the alias' calls, 1 to 99");
        }
        String stickiness = body.optionalString("stickiness", 20).orElse("tenant");
        SplitService.SplitRequest request = new SplitService.SplitRequest(body.requiredString("version", 40), (int) percent,
                AliasSplit.Stickiness.parse(stickiness).orElseThrow(() -> new InvalidFieldException("/stickiness",
                        "must be tenant (a tenant keeps its version) or request (each call by its request id)")),
                CatalogRoutes.override(body));
        canary.start(Actor.of(ctx), ctx.pathParam("model"), ctx.pathParam("alias"), request)
                .onSuccess(json -> Responses.json(ctx, 200, json))
                .onFailure(ctx::fail);
    }

    private void promote(RoutingContext ctx) {
        canary.promote(Actor.of(ctx), ctx.pathParam("model"), ctx.pathParam("alias"), CatalogRoutes.override(ctx))
                .onSuccess(aliases -> Responses.json(ctx, 200, new JsonObject()
                        .put("aliases", new JsonObject(new java.util.LinkedHashMap<String, Object>(aliases)))))
                .onFailure(ctx::fail);
    }

    private void rollBack(RoutingContext ctx) {
        canary.rollBack(Actor.of(ctx), ctx.pathParam("model"), ctx.pathParam("alias"))
                .onSuccess(v -> Responses.noContent(ctx))
                .onFailure(ctx::fail);
    }
}
