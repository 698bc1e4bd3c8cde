package com.modelmarket.marketplace.http;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writing {@code application/problem+json} responses. */
public final class Problems {

    public static final String CONTENT_TYPE = "application/problem+json";

    private Problems() {
    }

    /** The problem type URI for a short code; relative, resolved against the API's base. */
    public static String typeUri(String code) {
        return "/problems/" + code;
    }

    /** A problem for a bare HTTP status (no exception to describe it). */
    static Problem forStatus(int status) {
        return switch (status) {
            case 400 -> Problem.badRequest("The request could not be understood");
            case 401 -> Problem.unauthorized("Authentication is required");
            case 403 -> Problem.forbidden("Not allowed");
            case 404 -> new Problem(404, "not-found", "Not found", "No resource at this address");
            case 405 -> new Problem(405, "method-not-allowed", "Method not allowed",
                    "This resource does not support this method");
            case 408 -> new Problem(408, "request-timeout", "Request timeout",
                    "The request was not received in time");
            case 414 -> new Problem(414, "uri-too-long", "URI too long",
                    "The request line is longer than this server accepts");
            case 431 -> new Problem(431, "headers-too-large", "Request header fields too large",
                    "The request headers are larger than this server accepts");
            case 413 -> new Problem(413, "payload-too-large", "Payload too large",
                    "The request body is larger than this endpoint accepts");
            case 415 -> new Problem(415, "unsupported-media-type", "Unsupported media type",
                    "Send the body as application/json");
            case 429 -> Problem.tooManyRequests("Too many requests", 1);
            case 503 -> new Problem(503, "unavailable", "Service unavailable", "Try again shortly");
            default -> status >= 500
                    ? new Problem(500, "internal", "Internal server error",
                    "The server failed to handle this request; quote the request id when reporting it")
                    : new Problem(status, "error", "Error", "The request failed");
        };
    }

    /** Sends {@code problem} unless a response was already sent. */
    static void send(RoutingContext ctx, Problem problem) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.headWritten()) {
            return;
        }
        JsonObject body = problem.toProblem().put("instance", ctx.request().path());
        if (ctx.request().path().startsWith("/v2")) {
            body.put("error", body.getString("detail")); // what Open Inference Protocol clients read
        }
        String requestId = RequestIds.of(ctx);
        if (requestId != null) {
            body.put("requestId", requestId);
        }
        problem.headers().forEach(response::putHeader);
        // Refused before its body was read (401 on an upload, 413, 415): the connection cannot
        // carry another request, so say so and end it once the answer is out.
        boolean unread = ConnectionGuard.unreadBody(ctx.request());
        if (unread) {
            response.putHeader("Connection", "close");
        }
        response.setStatusCode(problem.status())
                .putHeader("Content-Type", CONTENT_TYPE)
                .end(body.encode())
                .onComplete(done -> {
                    if (unread) {
                        ConnectionGuard.closeUnread(ctx.request());
                    }
                });
    }
}
