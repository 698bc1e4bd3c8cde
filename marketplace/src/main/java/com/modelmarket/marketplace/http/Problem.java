package com.modelmarket.marketplace.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One RFC 9457 {@code application/problem+json} answer: status, type, title, detail, extension
 * members and headers. Built only in this package: {@link FailureHandler} makes one from each
 * failure, and the edge handlers here (415, 408, too many connections, shutting down) fail or
 * answer with one directly.
 */
final class Problem extends RuntimeException {

    /** One invalid field of a request body: a JSON pointer and what is wrong with it. */
    record FieldError(String pointer, String detail) {
        JsonObject toJson() {
            return new JsonObject().put("pointer", pointer).put("detail", detail);
        }
    }

    private final int status;
    private final String type;
    private final String title;
    private final List<FieldError> errors;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private final Map<String, Object> extensions = new LinkedHashMap<>();

    Problem(int status, String type, String title, String detail) {
        this(status, type, title, detail, List.of(), Map.of());
    }

    Problem(int status, String type, String title, String detail, List<FieldError> errors,
                        Map<String, String> headers) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
        this.title = title;
        this.errors = List.copyOf(errors);
        this.headers.putAll(headers);
    }

    static Problem badRequest(String detail) {
        return new Problem(400, "bad-request", "Bad request", detail);
    }

    static Problem invalid(String pointer, String detail) {
        return new Problem(400, "invalid-body", "Invalid request body", pointer + ": " + detail,
                List.of(new FieldError(pointer, detail)), Map.of());
    }

    static Problem unauthorized(String detail) {
        return new Problem(401, "unauthorized", "Unauthorized", detail, List.of(),
                Map.of("WWW-Authenticate", "Bearer realm=\"modelmarket\""));
    }

    static Problem forbidden(String detail) {
        return new Problem(403, "forbidden", "Forbidden", detail);
    }

    static Problem notFound(String what) {
        return new Problem(404, "not-found", "Not found", what + " not found");
    }

    static Problem conflict(String detail) {
        return new Problem(409, "conflict", "Conflict", detail);
    }

    static Problem tooManyRequests(String detail, long retryAfterSeconds) {
        return new Problem(429, "too-many-requests", "Too many requests", detail, List.of(),
                Map.of("Retry-After", Long.toString(Math.max(1, retryAfterSeconds))));
    }

    Problem with(String key, Object value) {
        extensions.put(key, value);
        return this;
    }

    Problem withHeader(String name, String value) {
        headers.put(name, value);
        return this;
    }

    int status() {
        return status;
    }

    Map<String, String> headers() {
        return headers;
    }

    /** The problem document, without {@code instance} (the failure handler adds it). */
    JsonObject toProblem() {
        JsonObject problem = new JsonObject()
                .put("type", Problems.typeUri(type))
                .put("title", title)
                .put("status", status)
                .put("detail", getMessage());
        if (!errors.isEmpty()) {
            JsonArray list = new JsonArray();
            errors.forEach(e -> list.add(e.toJson()));
            problem.put("errors", list);
        }
        extensions.forEach(problem::put);
        return problem;
    }
}
