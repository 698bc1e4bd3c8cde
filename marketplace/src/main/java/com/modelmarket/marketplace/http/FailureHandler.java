package com.modelmarket.marketplace.http;

import io.vertx.core.json.DecodeException;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns failures into problem+json. Caller errors are logged briefly; a
 * server error is logged with its stack trace and answered without any internal detail.
 */
public final class FailureHandler {

    private static final Logger LOG = LoggerFactory.getLogger(FailureHandler.class);

    private FailureHandler() {
    }

    public static void handle(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        ApiException problem = toProblem(ctx.statusCode(), failure);
        if (problem.status() >= 500) {
            LOG.error("{} {} failed [requestId={}]", ctx.request().method(), ctx.request().path(),
                    RequestIds.of(ctx), failure);
        } else if (LOG.isDebugEnabled()) {
            LOG.debug("{} {} -> {} [requestId={}]: {}", ctx.request().method(), ctx.request().path(),
                    problem.status(), RequestIds.of(ctx), problem.getMessage());
        }
        Problems.send(ctx, problem);
    }

    static ApiException toProblem(int statusCode, Throwable failure) {
        if (failure instanceof ApiException api) {
            return api;
        }
        if (failure instanceof DecodeException decode) {
            return new ApiException(400, "malformed-json", "Malformed JSON",
                    "The body is not valid JSON: " + firstLine(decode.getMessage()));
        }
        if (failure instanceof HttpException http) {
            return Problems.forStatus(http.getStatusCode());
        }
        if (failure == null && statusCode > 0) {
            return Problems.forStatus(statusCode);
        }
        if (failure instanceof io.vertx.core.http.HttpClosedException) {
            return Problems.forStatus(400);
        }
        if (statusCode >= 400 && statusCode < 500) {
            return Problems.forStatus(statusCode);
        }
        return Problems.forStatus(500);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        String line = message.lines().findFirst().orElse(message);
        return line.length() > 300 ? line.substring(0, 300) : line;
    }
}
