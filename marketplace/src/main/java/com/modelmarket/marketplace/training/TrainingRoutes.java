package com.modelmarket.marketplace.training;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.http.JsonBody;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * {@code /api/v1/datasets} (create from an upload, list, show, delete) and
 * {@code /api/v1/training-jobs} (create, list, show, cancel, and {@code /events}: the job as
 * Server-Sent Events until it ends). The caller's tenant only; another tenant's ids are 404.
 */
public final class TrainingRoutes {

    /** How often the event stream looks at the job. */
    private static final long EVENT_POLL_MILLIS = 500;

    private final Vertx vertx;
    private final DatasetService datasets;
    private final TrainingService training;
    private final AccessTokenHandler authenticated;

    public TrainingRoutes(Vertx vertx, DatasetService datasets, TrainingService training, AccessTokenHandler authenticated) {
        this.vertx = vertx;
        this.datasets = datasets;
        this.training = training;
        this.authenticated = authenticated;
    }

    public void mount(Router router) {
        router.post("/api/v1/datasets").handler(authenticated).handler(this::createDataset);
        router.get("/api/v1/datasets").handler(authenticated).handler(this::listDatasets);
        router.get("/api/v1/datasets/:id").handler(authenticated).handler(this::getDataset);
        router.delete("/api/v1/datasets/:id").handler(authenticated).handler(this::deleteDataset);
        router.post("/api/v1/training-jobs").handler(authenticated).handler(this::createJob);
        router.get("/api/v1/training-jobs").handler(authenticated).handler(this::listJobs);
        router.get("/api/v1/training-jobs/:id").handler(authenticated).handler(this::getJob);
        router.post("/api/v1/training-jobs/:id/cancel").handler(authenticated).handler(this::cancelJob);
        router.get("/api/v1/training-jobs/:id/events").handler(authenticated).handler(this::events);
    }

    private void createDataset(RoutingContext ctx) {
        JsonBody b = JsonBody.of(ctx);
        String sha = b.requiredString("uploadSha256", 64);
        if (!sha.matches("[0-9a-f]{64}")) {
            throw new InvalidFieldException("/uploadSha256", "must be the SHA-256 (64 lower-case hex digits) /api/v1/uploads returned");
        }
        DatasetService.Input in = new DatasetService.Input(sha, b.requiredString("name", 200), b.requiredString("labelColumn", 200),
                b.requiredString("task", 20));
        datasets.create(Actor.of(ctx), in).onSuccess(d -> Responses.json(ctx, 201, d.toJson())).onFailure(ctx::fail);
    }

    private void listDatasets(RoutingContext ctx) {
        datasets.list(Principal.of(ctx))
                .onSuccess(list -> Responses.items(ctx, new JsonArray(list.stream().map(Dataset::toJson).toList())))
                .onFailure(ctx::fail);
    }

    private void getDataset(RoutingContext ctx) {
        datasets.get(Principal.of(ctx), Responses.pathId(ctx, "id", "Dataset"))
                .onSuccess(d -> Responses.json(ctx, 200, d.toJson())).onFailure(ctx::fail);
    }

    private void deleteDataset(RoutingContext ctx) {
        datasets.delete(Actor.of(ctx), Responses.pathId(ctx, "id", "Dataset"))
                .onSuccess(v -> Responses.noContent(ctx)).onFailure(ctx::fail);
    }

    private void createJob(RoutingContext ctx) {
        JsonBody b = JsonBody.of(ctx);
        String dataset = b.requiredString("datasetId", 36);
        UUID datasetId;
        try {
            datasetId = UUID.fromString(dataset);
        } catch (IllegalArgumentException e) {
            throw new InvalidFieldException("/datasetId", "must be a dataset's id");
        }
        JsonObject target = b.optionalObject("target").orElseThrow(() -> new InvalidFieldException("/target",
                "is required: {\"model\": \"a-slug\"} (a new private model, or a trained model of yours for a new version)"));
        JsonBody t = JsonBody.wrap(target);
        TrainingService.Input in = new TrainingService.Input(b.requiredString("algorithm", 100), datasetId,
                b.optionalObject("hyperparameters").orElse(new JsonObject()), pointed(t, "model", 63),
                t.optionalString("name", 200), t.optionalString("version", 40));
        training.create(Actor.of(ctx), in).onSuccess(job -> {
            ctx.response().putHeader("Location", "/api/v1/training-jobs/" + job.id());
            Responses.json(ctx, 201, job.toJson());
        }).onFailure(ctx::fail);
    }

    private static String pointed(JsonBody body, String field, int max) {
        try {
            return body.requiredString(field, max);
        } catch (InvalidFieldException e) {
            throw new InvalidFieldException("/target" + e.pointer(), e.problem());
        }
    }

    private void listJobs(RoutingContext ctx) {
        training.list(Principal.of(ctx))
                .onSuccess(list -> Responses.items(ctx, new JsonArray(list.stream().map(TrainingJob::toJson).toList())))
                .onFailure(ctx::fail);
    }

    private void getJob(RoutingContext ctx) {
        training.get(Principal.of(ctx), Responses.pathId(ctx, "id", "Training job"))
                .onSuccess(job -> Responses.json(ctx, 200, job.toJson())).onFailure(ctx::fail);
    }

    private void cancelJob(RoutingContext ctx) {
        training.cancel(Actor.of(ctx), Responses.pathId(ctx, "id", "Training job"))
                .onSuccess(job -> Responses.json(ctx, 202, job.toJson())).onFailure(ctx::fail);
    }

    /**
     * The job as Server-Sent Events: an {@code event: job} with the whole job whenever its state or
     * progress changed (looked at every half second), and a last one when it has ended; then the
     * stream closes. The first look answers 404 for another tenant's job, like every route.
     */
    private void events(RoutingContext ctx) {
        Principal caller = Principal.of(ctx);
        UUID id = Responses.pathId(ctx, "id", "Training job");
        training.get(caller, id).onSuccess(first -> {
            HttpServerResponse response = ctx.response().setChunked(true)
                    .putHeader("Content-Type", "text/event-stream")
                    .putHeader("Cache-Control", "no-store")
                    .putHeader("X-Accel-Buffering", "no");
            String[] last = {null};
            Runnable[] send = new Runnable[1];
            send[0] = () -> training.get(caller, id).onComplete(ar -> {
                if (response.closed() || response.ended()) {
                    return;
                }
                if (ar.failed()) {
                    response.end("event: error\ndata: " + new JsonObject().put("detail", "the job could not be read").encode() + "\n\n");
                    return;
                }
                TrainingJob job = ar.result();
                String data = job.toJson().encode();
                if (!data.equals(last[0])) {
                    last[0] = data;
                    response.write("event: job\ndata: " + data + "\n\n");
                }
                if (job.state().finished()) {
                    response.end();
                } else {
                    vertx.setTimer(EVENT_POLL_MILLIS, t -> send[0].run());
                }
            });
            send[0].run();
        }).onFailure(ctx::fail);
    }

}
