package com.modelmarket.marketplace.gates;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.http.JsonBody;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** {@code /api/v1/models/{model}/gates}: a model's publish gates, for its publisher only. */
public final class GateRoutes {

    private final GateService gates;
    private final AccessTokenHandler authenticated;

    public GateRoutes(GateService gates, AccessTokenHandler authenticated) {
        this.gates = gates;
        this.authenticated = authenticated;
    }

    public void mount(Router router) {
        router.get("/api/v1/models/:model/gates").handler(authenticated).handler(this::get);
        router.put("/api/v1/models/:model/gates").handler(authenticated).handler(this::put);
    }

    private void get(RoutingContext ctx) {
        gates.get(Actor.of(ctx), ctx.pathParam("model"))
                .onSuccess(settings -> Responses.json(ctx, 200, settings.toJson()))
                .onFailure(ctx::fail);
    }

    private void put(RoutingContext ctx) {
        GateSettings settings = GateSettings.fromRequest(JsonBody.of(ctx).json());
        gates.put(Actor.of(ctx), ctx.pathParam("model"), settings)
                .onSuccess(saved -> Responses.json(ctx, 200, saved.toJson()))
                .onFailure(ctx::fail);
    }
}
