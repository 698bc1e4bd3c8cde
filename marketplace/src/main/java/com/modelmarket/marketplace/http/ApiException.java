package com.modelmarket.marketplace.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An error meant for the caller, rendered as RFC 9457 {@code application/problem+json} by
 * {@link FailureHandler}. Services throw or fail futures with it; nothing else maps errors.
 */
public class ApiException extends RuntimeException {

    /** One invalid field of a request body: a JSON pointer and what is wrong with it. */
    public record FieldError(String pointer, String detail) {
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

    public ApiException(int status, String type, String title, String detail) {
        this(status, type, title, detail, List.of(), Map.of());
    }

    public ApiException(int status, String type, String title, String detail, List<FieldError> errors,
                        Map<String, String> headers) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
        this.title = title;
        this.errors = List.copyOf(errors);
        this.headers.putAll(headers);
    }

    public static ApiException badRequest(String detail) {
        return new ApiException(400, "bad-request", "Bad request", detail);
    }

    public static ApiException invalid(String pointer, String detail) {
        return new ApiException(400, "invalid-body", "Invalid request body", pointer + ": " + detail,
                List.of(new FieldError(pointer, detail)), Map.of());
    }

    public static ApiException unauthorized(String detail) {
        return new ApiException(401, "unauthorized", "Unauthorized", detail, List.of(),
                Map.of("WWW-Authenticate", "Bearer realm=\"modelmarket\""));
    }

    public static ApiException forbidden(String detail) {
        return new ApiException(403, "forbidden", "Forbidden", detail);
    }

    public static ApiException notFound(String what) {
        return new ApiException(404, "not-found", "Not found", what + " not found");
    }

    public static ApiException conflict(String detail) {
        return new ApiException(409, "conflict", "Conflict", detail);
    }

    public static ApiException tooManyRequests(String detail, long retryAfterSeconds) {
        return new ApiException(429, "too-many-requests", "Too many requests", detail, List.of(),
                Map.of("Retry-After", Long.toString(Math.max(1, retryAfterSeconds))));
    }

    public ApiException with(String key, Object value) {
        extensions.put(key, value);
        return this;
    }

    public ApiException withHeader(String name, String value) {
        headers.put(name, value);
        return this;
    }

    public int status() {
        return status;
    }

    public Map<String, String> headers() {
        return headers;
    }

    /** The problem document, without {@code instance} (the failure handler adds it). */
    public JsonObject toProblem() {
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
