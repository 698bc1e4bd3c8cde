package com.modelmarket.marketplace.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.concurrent.TimeUnit;

/** A blocking HTTP client for tests, driven from the JUnit thread (never an event loop). */
public final class Api implements AutoCloseable {

    private final WebClient client;

    public Api(Vertx vertx, int port) {
        this.client = WebClient.create(vertx, new WebClientOptions()
                .setDefaultHost("127.0.0.1")
                .setDefaultPort(port)
                .setKeepAlive(true), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(128));
    }

    public HttpResponse<Buffer> get(String path, String bearer) {
        return send(HttpMethod.GET, path, bearer, null);
    }

    public HttpResponse<Buffer> delete(String path, String bearer) {
        return send(HttpMethod.DELETE, path, bearer, null);
    }

    public HttpResponse<Buffer> post(String path, String bearer, JsonObject body) {
        return send(HttpMethod.POST, path, bearer, body);
    }

    public HttpResponse<Buffer> patch(String path, String bearer, JsonObject body) {
        return send(HttpMethod.PATCH, path, bearer, body);
    }

    public HttpResponse<Buffer> send(HttpMethod method, String path, String bearer, JsonObject body) {
        HttpRequest<Buffer> request = request(method, path, bearer);
        return body == null ? await(request.send()) : await(request.sendJsonObject(body));
    }

    /** A request to customise (headers, raw bodies); send it with {@link #await}. */
    public HttpRequest<Buffer> request(HttpMethod method, String path, String bearer) {
        HttpRequest<Buffer> request = client.request(method, path);
        if (bearer != null) {
            request.putHeader("Authorization", "Bearer " + bearer);
        }
        return request;
    }

    public static <T> T await(Future<T> future) {
        try {
            return future.await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Signs up a new organisation with its owner; returns the response body. */
    public JsonObject signUp(String organisation, String email, String password) {
        HttpResponse<Buffer> r = post("/api/v1/auth/signup", null, new JsonObject()
                .put("organisation", organisation).put("email", email).put("password", password));
        assertEquals(201, r.statusCode(), () -> "sign-up failed: " + r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    public JsonObject login(String email, String password) {
        HttpResponse<Buffer> r = post("/api/v1/auth/login", null, new JsonObject()
                .put("email", email).put("password", password));
        assertEquals(200, r.statusCode(), () -> "login failed: " + r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    public static String accessToken(JsonObject signUpOrLogin) {
        JsonObject session = signUpOrLogin.containsKey("session") ? signUpOrLogin.getJsonObject("session") : signUpOrLogin;
        return session.getString("accessToken");
    }

    /** Asserts an RFC 9457 problem with this status, carrying a request id; returns the problem. */
    public static JsonObject assertProblem(HttpResponse<Buffer> r, int status) {
        assertEquals(status, r.statusCode(), () -> "unexpected answer: " + r.bodyAsString());
        assertEquals("application/problem+json", r.getHeader("Content-Type"), "content type");
        JsonObject problem = r.bodyAsJsonObject();
        assertEquals(status, problem.getInteger("status"));
        org.junit.jupiter.api.Assertions.assertNotNull(problem.getString("title"));
        org.junit.jupiter.api.Assertions.assertNotNull(problem.getString("type"));
        org.junit.jupiter.api.Assertions.assertNotNull(r.getHeader("X-Request-Id"), "X-Request-Id header");
        return problem;
    }

    @Override
    public void close() {
        client.close();
    }
}
