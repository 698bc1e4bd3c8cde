package com.modelmarket.marketplace.http;

import com.modelmarket.billing.metering.MeteringBacklogException;
import com.modelmarket.marketplace.errors.BadRequestException;
import com.modelmarket.marketplace.errors.BundleRefusedException;
import com.modelmarket.marketplace.errors.ConflictException;
import com.modelmarket.marketplace.errors.DatasetRefusedException;
import com.modelmarket.marketplace.errors.DomainException;
import com.modelmarket.marketplace.errors.JobsBusyException;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.GateFailedException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.errors.InvalidTensorException;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.marketplace.errors.NotReadyException;
import com.modelmarket.marketplace.errors.PayloadTooLargeException;
import com.modelmarket.marketplace.errors.QuotaExhaustedException;
import com.modelmarket.marketplace.errors.RateLimitedException;
import com.modelmarket.marketplace.errors.TooManyAttemptsException;
import com.modelmarket.marketplace.errors.UnauthorizedException;
import com.modelmarket.marketplace.errors.VersionRetiredException;
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
        Problem problem = toProblem(ctx.statusCode(), failure);
        if (failure instanceof MeteringBacklogException) {
            LOG.debug("{} {} -> 503 metering-backlog [requestId={}]", ctx.request().method(), ctx.request().path(),
                    RequestIds.of(ctx)); // the meter logs when back-pressure starts and ends, not once a call
        } else if ((problem.status() == 503 || problem.status() == 504) && !(failure instanceof NotReadyException)) {
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

    /** The status {@code failure} is answered with. */
    public static int statusOf(Throwable failure) {
        return toProblem(0, failure).status();
    }

    static Problem toProblem(int statusCode, Throwable failure) {
        if (failure instanceof Problem api) {
            return api;
        }
        if (failure instanceof DomainException domain) {
            return fromDomain(domain);
        }
        if (failure instanceof ServingException serving) {
            return fromServing(serving);
        }
        if (failure instanceof MeteringBacklogException backlog) {
            long seconds = Math.max(1, (backlog.retryAfter().toMillis() + 999) / 1000);
            return new Problem(503, "metering-backlog", "Metering backlog", backlog.getMessage(), java.util.List.of(),
                    java.util.Map.of("Retry-After", Long.toString(seconds)));
        }
        if (failure instanceof DecodeException decode) {
            return new Problem(400, "malformed-json", "Malformed JSON",
                    "The body is not valid JSON: " + firstLine(decode.getMessage()));
        }
        if (databaseUnavailable(failure)) {
            return new Problem(503, "database-unavailable", "Service unavailable",
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

    /** The marketplace's domain errors, mapped to HTTP in this one place. */
    static Problem fromDomain(DomainException e) {
        String detail = e.getMessage();
        if (e instanceof InvalidFieldException invalid) {
            return Problem.invalid(invalid.pointer(), invalid.problem());
        }
        if (e instanceof BadRequestException) {
            return Problem.badRequest(detail);
        }
        if (e instanceof InvalidTensorException tensor) {
            return new Problem(400, "invalid-tensor", "Invalid inference request", detail)
                    .with("tensor", tensor.tensor()).with("reason", tensor.reason());
        }
        if (e instanceof UnauthorizedException) {
            return Problem.unauthorized(detail);
        }
        if (e instanceof ForbiddenException forbidden) {
            Problem problem = forbidden.reason() == ForbiddenException.Reason.CROSS_SITE_REQUEST
                    ? new Problem(403, "cross-site-request", "Forbidden", detail)
                    : Problem.forbidden(detail);
            forbidden.hints().forEach(problem::with);
            return problem;
        }
        if (e instanceof NotFoundException notFound) {
            Problem problem = new Problem(404, "not-found", "Not found", detail);
            notFound.pointer().ifPresent(pointer -> problem.with("pointer", pointer));
            return problem;
        }
        if (e instanceof ConflictException) {
            return Problem.conflict(detail);
        }
        if (e instanceof GateFailedException gate) {
            return new Problem(409, "gate-failed", "Publish gate failed", detail)
                    .with("gates", gate.failures())
                    .with("override", "send {\"override\": true, \"reason\": \"...\"} to publish anyway (audited)");
        }
        if (e instanceof VersionRetiredException retired) {
            return new Problem(410, "version-retired", "Version retired", detail)
                    .with("model", retired.model()).with("version", retired.version());
        }
        if (e instanceof PayloadTooLargeException tooLarge) {
            return new Problem(413, "payload-too-large", "Payload too large", detail).with("maxBytes", tooLarge.maxBytes());
        }
        if (e instanceof BundleRefusedException refused) {
            return new Problem(422, "bundle-refused", "Bundle refused", detail)
                    .with("check", "bundle").with("reason", refused.reason());
        }
        if (e instanceof RateLimitedException limited) {
            return Problem.tooManyRequests(detail, limited.resetSeconds())
                    .withHeader(RateLimitHeaders.POLICY, RateLimitHeaders.policy(limited.limit(), limited.windowSeconds()))
                    .withHeader(RateLimitHeaders.STATE, RateLimitHeaders.state(limited.remaining(), limited.resetSeconds()));
        }
        if (e instanceof QuotaExhaustedException quota) {
            long seconds = quota.resetAt().getEpochSecond() - java.time.Instant.now().getEpochSecond();
            return Problem.tooManyRequests(detail, Math.max(1, seconds))
                    .with("quotaExceeded", true).with("resetAt", quota.resetAt().toString());
        }
        if (e instanceof TooManyAttemptsException attempts) {
            return Problem.tooManyRequests(detail, attempts.retryAfterSeconds());
        }
        if (e instanceof NotReadyException) {
            return new Problem(503, "not-ready", "Not ready", detail);
        }
        if (e instanceof DatasetRefusedException refused) {
            Problem problem = new Problem(422, "dataset-refused", "Dataset refused", detail).with("reason", refused.reason());
            if (refused.line() > 0) {
                problem.with("line", refused.line());
            }
            if (refused.row() > 0) {
                problem.with("row", refused.row());
            }
            if (refused.column() != null) {
                problem.with("column", refused.column());
            }
            return problem;
        }
        if (e instanceof JobsBusyException busy) {
            String title = Character.toUpperCase(busy.kind().charAt(0)) + busy.kind().substring(1) + " queue full";
            return busy.perTenant() ? Problem.tooManyRequests(detail, busy.retryAfterSeconds())
                    : new Problem(503, busy.kind() + "-busy", title, detail, java.util.List.of(),
                            java.util.Map.of("Retry-After", Long.toString(busy.retryAfterSeconds())));
        }
        return Problems.forStatus(500);
    }

    /** The serving engine's typed errors, mapped to HTTP in this one place. */
    static Problem fromServing(ServingException e) {
        if (e instanceof ModelRejectedException rejected) {
            String check = rejected.check().wireName();
            return new Problem(422, "model-rejected", "Model rejected",
                    "The model was refused (" + check + " check): " + rejected.reason())
                    .with("check", check).with("reason", rejected.reason());
        }
        if (e instanceof OverloadedException overloaded) {
            long seconds = Math.max(1, (overloaded.retryAfter().toMillis() + 999) / 1000);
            return new Problem(503, "overloaded", "Overloaded", e.getMessage(), java.util.List.of(),
                    java.util.Map.of("Retry-After", Long.toString(seconds)));
        }
        if (e instanceof DeadlineExceededException) {
            return new Problem(504, "deadline-exceeded", "Deadline exceeded", e.getMessage());
        }
        if (e instanceof InvalidInputException) {
            return Problem.badRequest(e.getMessage());
        }
        if (e instanceof ModelNotLoadedException) {
            return new Problem(503, "model-unavailable", "Model unavailable", e.getMessage(), java.util.List.of(),
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
