package com.modelmarket.marketplace.evaluation;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.http.JsonBody;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * {@code /api/v1/evaluations}: create (an evaluation, or with {@code compareWith} a comparison of
 * two versions), list, show, cancel. Access token; the caller's tenant only: another tenant's ids
 * are 404.
 */
public final class EvaluationRoutes {

    private final EvaluationService evaluations;
    private final AccessTokenHandler authenticated;

    public EvaluationRoutes(EvaluationService evaluations, AccessTokenHandler authenticated) {
        this.evaluations = evaluations;
        this.authenticated = authenticated;
    }

    public void mount(Router router) {
        router.post("/api/v1/evaluations").handler(authenticated).handler(this::create);
        router.get("/api/v1/evaluations").handler(authenticated).handler(this::list);
        router.get("/api/v1/evaluations/:id").handler(authenticated).handler(this::get);
        router.post("/api/v1/evaluations/:id/cancel").handler(authenticated).handler(this::cancel);
    }

    private void create(RoutingContext ctx) {
        JsonBody b = JsonBody.of(ctx);
        UUID datasetId;
        try {
            datasetId = UUID.fromString(b.requiredString("datasetId", 36));
        } catch (IllegalArgumentException e) {
            throw new InvalidFieldException("/datasetId", "must be a dataset's id");
        }
        Object reference = b.json().getValue("reference");
        if (reference != null && !(reference instanceof Boolean)) {
            throw new InvalidFieldException("/reference", "must be true or false");
        }
        EvaluationService.Input in = new EvaluationService.Input(b.requiredString("model", 100), b.optionalString("version", 40),
                datasetId, b.optionalObject("mapping").orElse(null), b.optionalString("compareWith", 40), Boolean.TRUE.equals(reference));
        evaluations.create(Actor.of(ctx), in).onSuccess(job -> {
            ctx.response().putHeader("Location", "/api/v1/evaluations/" + job.id());
            Responses.json(ctx, 201, job.toJson());
        }).onFailure(ctx::fail);
    }

    private void list(RoutingContext ctx) {
        evaluations.list(Principal.of(ctx))
                .onSuccess(list -> Responses.items(ctx, new JsonArray(list.stream().map(EvaluationJob::toJson).toList())))
                .onFailure(ctx::fail);
    }

    private void get(RoutingContext ctx) {
        evaluations.get(Principal.of(ctx), Responses.pathId(ctx, "id", "Evaluation"))
                .onSuccess(job -> Responses.json(ctx, 200, job.toJson())).onFailure(ctx::fail);
    }

    private void cancel(RoutingContext ctx) {
        evaluations.cancel(Actor.of(ctx), Responses.pathId(ctx, "id", "Evaluation"))
                .onSuccess(job -> Responses.json(ctx, 202, job.toJson())).onFailure(ctx::fail);
    }

}
