package com.modelmarket.marketplace.http;

import com.modelmarket.billing.metering.MeteringBacklogException;
import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.InvalidInputException;
import com.modelmarket.serving.ModelNotLoadedException;
import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.ServingException;
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
        if (failure instanceof MeteringBacklogException) {
            LOG.debug("{} {} -> 503 metering-backlog [requestId={}]", ctx.request().method(), ctx.request().path(),
                    RequestIds.of(ctx)); // the meter logs when back-pressure starts and ends, not once a call
        } else if (problem.status() == 503 || problem.status() == 504) {
            LOG.warn("{} {} -> {} [requestId={}]: {}", ctx.request().method(), ctx.request().path(), problem.status(),
                    RequestIds.of(ctx), problem.getMessage());
        } else if (problem.status() >= 500) {
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
        if (failure instanceof ServingException serving) {
            return fromServing(serving);
        }
        if (failure instanceof MeteringBacklogException backlog) {
            long seconds = Math.max(1, (backlog.retryAfter().toMillis() + 999) / 1000);
            return new ApiException(503, "metering-backlog", "Metering backlog", backlog.getMessage(), java.util.List.of(),
                    java.util.Map.of("Retry-After", Long.toString(seconds)));
        }
        if (failure instanceof DecodeException decode) {
            return new ApiException(400, "malformed-json", "Malformed JSON",
                    "The body is not valid JSON: " + firstLine(decode.getMessage()));
        }
        if (databaseUnavailable(failure)) {
            return new ApiException(503, "database-unavailable", "Service unavailable",
                    "The database is unavailable; try again shortly", java.util.List.of(), java.util.Map.of("Retry-After", "2"));
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

    /** A lost or refused database connection (not an SQL error, which stays a 500). */
    static boolean databaseUnavailable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof io.vertx.pgclient.PgException) {
                return false;
            }
            if (t instanceof java.net.ConnectException || t instanceof io.vertx.sqlclient.ClosedConnectionException
                    || t instanceof io.vertx.core.http.ConnectionPoolTooBusyException
                    || (t.getClass().getName().startsWith("io.vertx.sqlclient") && t.getMessage() != null
                    && t.getMessage().toLowerCase(java.util.Locale.ROOT).contains("connection"))) {
                return true;
            }
        }
        return false;
    }

    /** The serving engine's typed errors, mapped to HTTP in this one place. */
    static ApiException fromServing(ServingException e) {
        if (e instanceof ModelRejectedException rejected) {
            String check = rejected.check().wireName();
            return new ApiException(422, "model-rejected", "Model rejected",
                    "The model was refused (" + check + " check): " + rejected.reason())
                    .with("check", check).with("reason", rejected.reason());
        }
        if (e instanceof OverloadedException overloaded) {
            long seconds = Math.max(1, (overloaded.retryAfter().toMillis() + 999) / 1000);
            return new ApiException(503, "overloaded", "Overloaded", e.getMessage(), java.util.List.of(),
                    java.util.Map.of("Retry-After", Long.toString(seconds)));
        }
        if (e instanceof DeadlineExceededException) {
            return new ApiException(504, "deadline-exceeded", "Deadline exceeded", e.getMessage());
        }
        if (e instanceof InvalidInputException) {
            return ApiException.badRequest(e.getMessage());
        }
        if (e instanceof ModelNotLoadedException) {
            return new ApiException(503, "model-unavailable", "Model unavailable", e.getMessage(), java.util.List.of(),
                    java.util.Map.of("Retry-After", "1"));
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
