package com.modelmarket.marketplace.http;

import com.modelmarket.marketplace.errors.NotFoundException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/** Small helpers for successful responses and path parameters. */
public final class Responses {

    private Responses() {
    }

    public static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
    }

    /** A body already encoded as JSON (see {@link StreamedJson}). */
    public static void json(RoutingContext ctx, int status, io.vertx.core.buffer.Buffer body) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
    }

    public static void items(RoutingContext ctx, JsonArray items) {
        json(ctx, 200, new JsonObject().put("items", items));
    }

    public static void noContent(RoutingContext ctx) {
        ctx.response().setStatusCode(204).end();
    }

    /**
     * A UUID path parameter. A malformed id names no resource of the caller's, so it answers 404
     * like any id the caller cannot see.
     */
    public static UUID pathId(RoutingContext ctx, String name, String what) {
        try {
            return UUID.fromString(ctx.pathParam(name));
        } catch (IllegalArgumentException e) {
            throw new NotFoundException(what);
        }
    }
}
