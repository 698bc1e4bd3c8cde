package com.modelmarket.marketplace.inference;

import com.modelmarket.marketplace.apikeys.ApiKeyHandler;
import com.modelmarket.marketplace.apikeys.ApiKeyService;
import com.modelmarket.marketplace.apikeys.KeyPrincipal;
import com.modelmarket.marketplace.db.Database;
import com.modelmarket.marketplace.http.RateLimitHeaders;
import com.modelmarket.marketplace.http.JsonContentType;
import com.modelmarket.marketplace.http.RequestIds;
import com.modelmarket.marketplace.http.Responses;
import com.modelmarket.marketplace.http.SmallBodyHandler;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.marketplace.errors.BadRequestException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The Open Inference Protocol over HTTP/REST ({@code /v2}), authenticated with API keys. Model
 * names are catalog slugs; {@code {version}} is a version number or an alias.
 */
public final class InferenceRoutes {

    public static final String SERVER_NAME = "modelmarket";
    public static final String SERVER_VERSION = "0.1.0";
    /** The binary tensor data extension's header (as Triton and KServe name it). */
    public static final String BINARY_HEADER = "Inference-Header-Content-Length";

    private final InferenceService inference;
    private final ApiKeyService keys;
    private final Database database;
    private final long maxBodyBytes;

    public InferenceRoutes(InferenceService inference, ApiKeyService keys, Database database, long maxBodyBytes) {
        this.inference = inference;
        this.keys = keys;
        this.database = database;
        this.maxBodyBytes = maxBodyBytes;
    }

    public void mount(Router router) {
        ApiKeyHandler key = new ApiKeyHandler(keys, "inference");
        router.get("/v2/health/live").handler(ctx -> Responses.json(ctx, 200, new JsonObject().put("live", true)));
        router.get("/v2/health/ready").handler(this::serverReady);
        router.get("/v2").handler(this::serverMetadata);
        router.get("/v2/").handler(this::serverMetadata);
        router.get("/v2/models/:model").handler(key).handler(this::modelMetadata);
        router.get("/v2/models/:model/versions/:version").handler(key).handler(this::modelMetadata);
        router.get("/v2/models/:model/ready").handler(key).handler(this::modelReady);
        router.get("/v2/models/:model/versions/:version/ready").handler(key).handler(this::modelReady);
        router.post("/v2/models/*").handler(InferenceRoutes::contentType);
        router.post("/v2/models/*").handler(new SmallBodyHandler(maxBodyBytes)); // BodyHandler, without a second copy of a one-chunk body
        router.post("/v2/models/:model/infer").handler(key).handler(this::infer);
        router.post("/v2/models/:model/versions/:version/infer").handler(key).handler(this::infer);
    }

    private void serverReady(RoutingContext ctx) {
        database.ready().onComplete(ar -> {
            boolean ready = ar.succeeded() && Boolean.TRUE.equals(ar.result());
            ctx.response().setStatusCode(ready ? 200 : 503).putHeader("Content-Type", "application/json")
                    .end(new JsonObject().put("ready", ready).encode());
        });
    }

    private void serverMetadata(RoutingContext ctx) {
        Responses.json(ctx, 200, new JsonObject().put("name", SERVER_NAME).put("version", SERVER_VERSION)
                .put("extensions", new JsonArray().add("binary_tensor_data")));
    }

    private void modelMetadata(RoutingContext ctx) {
        ctx.put("model", ctx.pathParam("model"));
        inference.metadata(KeyPrincipal.of(ctx).tenantId(), ctx.pathParam("model"), ctx.pathParam("version"))
                .onSuccess(meta -> Responses.json(ctx, 200, meta))
                .onFailure(ctx::fail);
    }

    private void modelReady(RoutingContext ctx) {
        ctx.put("model", ctx.pathParam("model"));
        inference.resolve(KeyPrincipal.of(ctx).tenantId(), ctx.pathParam("model"), ctx.pathParam("version"), false)
                .onSuccess(target -> Responses.json(ctx, 200, new JsonObject().put("name", target.model().slug())
                        .put("ready", true)))
                .onFailure(ctx::fail);
    }

    /** JSON, or the binary data extension: a JSON header of the declared length, then raw tensor bytes. */
    private static void contentType(RoutingContext ctx) {
        if (ctx.request().getHeader(BINARY_HEADER) != null) {
            ctx.next();
        } else {
            JsonContentType.handle(ctx);
        }
    }

    private void infer(RoutingContext ctx) {
        ctx.put("model", ctx.pathParam("model"));
        String headerLength = ctx.request().getHeader(BINARY_HEADER);
        InferenceEnvelope body;
        Buffer binary = null;
        if (headerLength == null) {
            // Parsed here rather than by JsonBody: tensor data is never stored, so the NUL scan
            // that guards stored fields would only cost time on the hot path; and streamed, so
            // tensor data never becomes a tree of boxed numbers.
            // Read in one pass straight into the tensors' bytes where that can be done without doubt.
            Buffer raw = ctx.body().buffer();
            body = raw == null || raw.length() == 0 ? null : InferenceEnvelope.read(raw);
            if (body == null) {
                throw new InvalidFieldException("/", "the body must be an inference request object");
            }
        } else {
            Buffer all = ctx.body().buffer() == null ? Buffer.buffer() : ctx.body().buffer();
            int n;
            try {
                n = Integer.parseInt(headerLength.trim());
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 2 || n > all.length()) {
                throw new BadRequestException(BINARY_HEADER + " must be the length of the JSON header within the body");
            }
            body = InferenceEnvelope.read(all.slice(0, n));
            if (body == null) {
                throw new InvalidFieldException("/", "the JSON header must be an object");
            }
            binary = all.slice(n, all.length()); // a view: the tensor bytes are copied once, by the decoder
        }
        inference.infer(KeyPrincipal.of(ctx), RequestIds.of(ctx), ctx.pathParam("model"), ctx.pathParam("version"), body, binary)
                .onSuccess(outcome -> respond(ctx, outcome))
                .onFailure(ctx::fail);
    }

    private static void respond(RoutingContext ctx, InferenceService.Outcome outcome) {
        HttpServerResponse response = ctx.response();
        RequestFacts facts = outcome.result().facts();
        response.putHeader("X-Model-Version", outcome.target().version().version())
                .putHeader("X-Queue-Time-Micros", Long.toString(facts.queueNanos() / 1000))
                .putHeader("X-Compute-Time-Micros", Long.toString(facts.computeNanos() / 1000))
                .putHeader("X-Batch-Size", Integer.toString(facts.batchSize()))
                .putHeader("X-Cold-Start", Boolean.toString(outcome.coldStart()))
                .putHeader(RateLimitHeaders.POLICY, RateLimitHeaders.policy(outcome.rate().limit(), RateLimiter.WINDOW_SECONDS))
                .putHeader(RateLimitHeaders.STATE, RateLimitHeaders.state(outcome.rate().remaining(), outcome.rate().resetSeconds()));
        if (outcome.result().node() != null) {
            response.putHeader("X-Served-By", outcome.result().node()); // the serving node, when the call crossed the cluster
        }
        var version = outcome.target().version();
        if (version.state() == com.modelmarket.marketplace.catalog.VersionState.DEPRECATED) {
            long at = version.deprecatedAt() == null ? 0 : version.deprecatedAt().toEpochSecond();
            response.putHeader("Deprecation", "@" + at)
                    .putHeader("Link", "</api/v1/models/" + outcome.target().model().slug() + ">; rel=\"deprecation\"");
        }
        InferenceAnswer.Encoded answer = InferenceAnswer.encode(outcome.target().model().slug(), version.version(),
                outcome.request(), outcome.result().outputs());
        if (answer.binaryBytes() == 0) {
            Responses.json(ctx, 200, answer.body());
            return;
        }
        response.putHeader(BINARY_HEADER, Integer.toString(answer.jsonLength()))
                .putHeader("Content-Type", "application/octet-stream")
                .setStatusCode(200)
                .end(answer.body());
    }
}
