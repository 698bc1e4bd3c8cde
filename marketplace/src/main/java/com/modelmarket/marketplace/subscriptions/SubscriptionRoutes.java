package com.modelmarket.marketplace.subscriptions;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.errors.BadRequestException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.http.JsonBody;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/** {@code /api/v1/subscriptions} and {@code /api/v1/audit-log}: the caller's tenant only. */
public final class SubscriptionRoutes {

    private final SubscriptionService subscriptions;
    private final AuditLog audit;
    private final AccessTokenHandler authenticated;

    public SubscriptionRoutes(SubscriptionService subscriptions, AuditLog audit, AccessTokenHandler authenticated) {
        this.subscriptions = subscriptions;
        this.audit = audit;
        this.authenticated = authenticated;
    }

    public void mount(Router router) {
        router.get("/api/v1/subscriptions").handler(authenticated).handler(this::list);
        router.post("/api/v1/subscriptions").handler(authenticated).handler(this::subscribe);
        router.get("/api/v1/subscriptions/:id").handler(authenticated).handler(this::get);
        router.patch("/api/v1/subscriptions/:id").handler(authenticated).handler(this::changePlan);
        router.delete("/api/v1/subscriptions/:id").handler(authenticated).handler(this::cancel);
        router.get("/api/v1/audit-log").handler(authenticated).handler(this::auditLog);
    }

    private void list(RoutingContext ctx) {
        subscriptions.list(Principal.of(ctx))
                .onSuccess(list -> Responses.items(ctx, new JsonArray(list.stream().map(Subscription::toJson).toList())))
                .onFailure(ctx::fail);
    }

    private void subscribe(RoutingContext ctx) {
        JsonBody b = JsonBody.of(ctx);
        String model = b.requiredString("model", 63);
        UUID plan = uuid(b.requiredString("planId", 36), "/planId");
        subscriptions.subscribe(Actor.of(ctx), model, plan)
                .onSuccess(s -> Responses.json(ctx, 201, s.toJson()))
                .onFailure(ctx::fail);
    }

    private void get(RoutingContext ctx) {
        subscriptions.get(Principal.of(ctx), Responses.pathId(ctx, "id", "Subscription"))
                .onSuccess(s -> Responses.json(ctx, 200, s.toJson()))
                .onFailure(ctx::fail);
    }

    private void changePlan(RoutingContext ctx) {
        UUID plan = uuid(JsonBody.of(ctx).requiredString("planId", 36), "/planId");
        subscriptions.changePlan(Actor.of(ctx), Responses.pathId(ctx, "id", "Subscription"), plan)
                .onSuccess(s -> Responses.json(ctx, 200, s.toJson()))
                .onFailure(ctx::fail);
    }

    private void cancel(RoutingContext ctx) {
        subscriptions.cancel(Actor.of(ctx), Responses.pathId(ctx, "id", "Subscription"))
                .onSuccess(s -> Responses.json(ctx, 200, s.toJson()))
                .onFailure(ctx::fail);
    }

    private void auditLog(RoutingContext ctx) {
        long before = parse(ctx.queryParams().get("before"), 0);
        int limit = (int) Math.min(200, Math.max(1, parse(ctx.queryParams().get("limit"), 50)));
        audit.list(Principal.of(ctx), before, limit)
                .onSuccess(page -> Responses.json(ctx, 200, page))
                .onFailure(ctx::fail);
    }

    private static long parse(String value, long fallback) {
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new BadRequestException("'" + value + "' is not a number");
        }
    }

    private static UUID uuid(String value, String pointer) {
        try {
            return UUID.fromString(value);
        } catch (IllegalArgumentException e) {
            throw new InvalidFieldException(pointer, "must be a UUID");
        }
    }
}
