package com.modelmarket.marketplace.plans;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.http.JsonBody;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** {@code /api/v1/models/{model}/plans}: list (anyone who sees the model), create and archive (its publisher). */
public final class PlanRoutes {

    private final PlanService plans;
    private final AccessTokenHandler authenticated;

    public PlanRoutes(PlanService plans, AccessTokenHandler authenticated) {
        this.plans = plans;
        this.authenticated = authenticated;
    }

    public void mount(Router router) {
        router.get("/api/v1/models/:model/plans").handler(authenticated.optional()).handler(this::list);
        router.post("/api/v1/models/:model/plans").handler(authenticated).handler(this::create);
        router.delete("/api/v1/models/:model/plans/:plan").handler(authenticated).handler(this::archive);
    }

    private void list(RoutingContext ctx) {
        plans.list(Principal.optional(ctx), ctx.pathParam("model"))
                .onSuccess(list -> Responses.items(ctx, new JsonArray(list.stream().map(Plan::toJson).toList())))
                .onFailure(ctx::fail);
    }

    private void create(RoutingContext ctx) {
        JsonBody b = JsonBody.of(ctx);
        PlanService.PlanInput in = new PlanService.PlanInput(b.requiredString("name", 100),
                PlanService.PlanInput.type(b.requiredString("type", 20)),
                b.requiredString("currency", 3), b.longValue("monthlyFeeMinor", 0, 0, Long.MAX_VALUE / 1000),
                b.longValue("includedCalls", 0, 0, Long.MAX_VALUE / 1000),
                b.longValue("pricePer1000Minor", 0, 0, Long.MAX_VALUE / 1000),
                (int) b.longValue("rateLimitPerMinute", 60, 1, 1_000_000),
                new com.modelmarket.billing.TrainingPrice(b.longValue("trainingPerJobMinor", 0, 0, Long.MAX_VALUE / 1000),
                        b.longValue("trainingPerMinuteMinor", 0, 0, Long.MAX_VALUE / 1000),
                        b.longValue("includedTrainingMinutes", 0, 0, 10_000_000),
                        b.longValue("trainingMaxJobSeconds", 0, 0, 31L * 24 * 3600)));
        plans.create(Actor.of(ctx), ctx.pathParam("model"), in)
                .onSuccess(plan -> Responses.json(ctx, 201, plan.toJson()))
                .onFailure(ctx::fail);
    }

    private void archive(RoutingContext ctx) {
        plans.archive(Actor.of(ctx), ctx.pathParam("model"), Responses.pathId(ctx, "plan", "Plan"))
                .onSuccess(plan -> Responses.json(ctx, 200, plan.toJson()))
                .onFailure(ctx::fail);
    }
}
