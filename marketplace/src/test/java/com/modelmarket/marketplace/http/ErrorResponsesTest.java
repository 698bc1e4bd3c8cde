package com.modelmarket.marketplace.http;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Each malformed input gets its RFC 9457 answer with the right status and a request id. */
@StartedPlatform("http.max-json-body-bytes=65536")
@ExtendWith(VertxExtension.class)
class ErrorResponsesTest {

    private static Platform platform;
    private static Api api;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
    }

    private static HttpResponse<Buffer> raw(HttpMethod method, String path, String contentType, String body) {
        var request = api.request(method, path, null);
        if (contentType != null) {
            request.putHeader("Content-Type", contentType);
        }
        return Api.await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
    }

    @Test
    @DisplayName("unknown routes answer 404 and known routes with the wrong method 405")
    void routing() {
        assertProblem(api.get("/api/v1/no-such-thing", null), 404);
        assertProblem(api.get("/no/such/page.html", null), 404);
        assertProblem(raw(HttpMethod.PUT, "/api/v1/auth/login", null, null), 405);
        assertProblem(raw(HttpMethod.DELETE, "/health/ready", null, null), 405);
    }

    @Test
    @DisplayName("malformed JSON, a non-object body and bad fields answer 400, naming the field")
    void badBodies() {
        JsonObject syntax = assertProblem(raw(HttpMethod.POST, "/api/v1/auth/login", "application/json", "{\"email\": "), 400);
        assertEquals("/problems/malformed-json", syntax.getString("type"));
        assertProblem(raw(HttpMethod.POST, "/api/v1/auth/login", "application/json", "[1, 2]"), 400);
        assertProblem(raw(HttpMethod.POST, "/api/v1/auth/login", "application/json", ""), 400);

        JsonObject wrongType = assertProblem(api.post("/api/v1/auth/login", null,
                new JsonObject().put("email", 42).put("password", "x")), 400);
        assertEquals("/email", wrongType.getJsonArray("errors").getJsonObject(0).getString("pointer"));
        JsonObject missing = assertProblem(api.post("/api/v1/auth/signup", null,
                new JsonObject().put("organisation", "Org").put("email", "a@b.test")), 400);
        assertEquals("/password", missing.getJsonArray("errors").getJsonObject(0).getString("pointer"));
        JsonObject notEmail = assertProblem(api.post("/api/v1/auth/signup", null, new JsonObject()
                .put("organisation", "Org").put("email", "not-an-address").put("password", "long-enough-pw")), 400);
        assertTrue(notEmail.getString("detail").contains("email"));
    }

    @Test
    @DisplayName("NUL characters in bodies, paths and query strings answer 400 (PostgreSQL cannot store them)")
    void nulCharacters() {
        JsonObject problem = assertProblem(api.post("/api/v1/auth/signup", null, new JsonObject()
                .put("organisation", "Nul\u0000Org").put("email", "nul@org.test").put("password", "long-enough-pw")), 400);
        assertEquals("/organisation", problem.getJsonArray("errors").getJsonObject(0).getString("pointer"));
        assertProblem(api.post("/api/v1/auth/signup", null, new JsonObject().put("organisation", "Org")
                .put("email", "nul2@org.test").put("password", "long-enough-pw").put("extra", new JsonObject().put("a\u0000", 1))), 400);
        assertProblem(api.get("/api/v1/models/%00", null), 400);
        assertProblem(api.get("/api/v1/catalog?q=a%00b", null), 400);
    }

    @Test
    @DisplayName("a body over the limit answers 413 and a non-JSON content type 415")
    void sizeAndType() {
        String big = new JsonObject().put("email", "a@b.test").put("password", "x".repeat(70_000)).encode();
        assertProblem(raw(HttpMethod.POST, "/api/v1/auth/login", "application/json", big), 413);
        assertProblem(raw(HttpMethod.POST, "/api/v1/auth/login", "text/plain", "{\"email\":\"a@b.test\"}"), 415);
        assertProblem(raw(HttpMethod.POST, "/api/v1/auth/login", "application/x-www-form-urlencoded", "email=a"), 415);
    }

    @Test
    @DisplayName("missing credentials answer 401 and missing rights 403")
    void authErrors() {
        assertProblem(api.get("/api/v1/members", null), 401);
        String owner = accessToken(api.signUp("Err Org", "owner@err.test", "owner-password"));
        api.post("/api/v1/members", owner, new JsonObject().put("email", "m@err.test")
                .put("password", "member-password").put("role", "member"));
        assertProblem(api.get("/api/v1/api-keys", accessToken(api.login("m@err.test", "member-password"))), 403);
    }

    @Test
    @DisplayName("the web UI is served uncached and under a strict Content-Security-Policy; every response says nosniff")
    void webUiHeaders() {
        HttpResponse<Buffer> page = api.get("/", null);
        assertEquals(200, page.statusCode());
        assertTrue(page.getHeader("Content-Type").startsWith("text/html"));
        assertEquals("no-cache", page.getHeader("Cache-Control"));
        String csp = page.getHeader("Content-Security-Policy");
        assertTrue(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), csp);
        assertEquals("nosniff", page.getHeader("X-Content-Type-Options"));
        assertEquals("nosniff", api.get("/api/v1/nothing", null).getHeader("X-Content-Type-Options"));
        assertProblem(api.post("/api/v1/auth/refresh", null, null), 401);
    }

    @Test
    @DisplayName("every response carries X-Request-Id, echoing a caller's own id")
    void requestIds() {
        assertNotNull(api.get("/health/live", null).getHeader("X-Request-Id"));
        HttpResponse<Buffer> echoed = Api.await(api.request(HttpMethod.GET, "/api/v1/nothing", null)
                .putHeader("X-Request-Id", "client-req-12345").send());
        assertEquals("client-req-12345", echoed.getHeader("X-Request-Id"));
        assertEquals("client-req-12345", echoed.bodyAsJsonObject().getString("requestId"));
        HttpResponse<Buffer> unsafe = Api.await(api.request(HttpMethod.GET, "/health/live", null)
                .putHeader("X-Request-Id", "<script>").send());
        assertFalse(unsafe.getHeader("X-Request-Id").contains("<"));
    }

    @Test
    @DisplayName("an internal failure answers 500 without stack trace, exception or SQL in the body")
    void internalErrors(Vertx vertx) {
        Router router = Router.router(vertx);
        router.route().handler(RequestIds::handle);
        router.get("/boom").handler(ctx -> {
            throw new IllegalStateException("ERROR: relation \"users\" ... SELECT password_hash FROM users");
        });
        router.get("/async-boom").handler(ctx -> ctx.fail(new RuntimeException("SELECT * FROM api_keys")));
        router.route().failureHandler(FailureHandler::handle);
        HttpServer server = Api.await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
        try (Api local = new Api(vertx, server.actualPort())) {
            for (String path : new String[] {"/boom", "/async-boom"}) {
                HttpResponse<Buffer> r = local.get(path, null);
                JsonObject problem = assertProblem(r, 500);
                String body = r.bodyAsString();
                assertFalse(body.contains("SELECT") || body.contains("Exception") || body.contains("at com."), body);
                assertNotNull(problem.getString("requestId"));
            }
        } finally {
            Api.await(server.close());
        }
    }
}
