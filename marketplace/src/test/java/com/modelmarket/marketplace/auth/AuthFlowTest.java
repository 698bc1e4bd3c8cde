package com.modelmarket.marketplace.auth;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@StartedPlatform
@ExtendWith(VertxExtension.class)
class AuthFlowTest {

    private static Platform platform;
    private static Api api;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
    }

    @Test
    @DisplayName("sign-up creates a tenant and its owner, and the session's access token works")
    void signUp() {
        JsonObject body = api.signUp("Acme Vision Labs", "owner@acme.test", "correct horse battery");
        assertEquals("acme-vision-labs", body.getJsonObject("tenant").getString("slug"));
        assertEquals("owner", body.getJsonObject("user").getString("role"));
        JsonObject session = body.getJsonObject("session");
        assertTrue(session.getLong("expiresIn") <= 900);
        assertTrue(session.getString("refreshToken").startsWith("mmr_"));

        HttpResponse<Buffer> me = api.get("/api/v1/me", accessToken(body));
        assertEquals(200, me.statusCode());
        assertEquals(body.getJsonObject("tenant").getString("id"), me.bodyAsJsonObject().getString("tenantId"));
        assertEquals("owner", me.bodyAsJsonObject().getString("role"));
    }

    @Test
    @DisplayName("a second sign-up with the same e-mail address is a conflict; the same organisation name gets its own slug")
    void duplicates() {
        JsonObject first = api.signUp("Twin Org", "twin@one.test", "password-one-1");
        assertProblem(api.post("/api/v1/auth/signup", null, new JsonObject()
                .put("organisation", "Other").put("email", "TWIN@one.test").put("password", "password-two-2")), 409);
        JsonObject second = api.signUp("Twin Org", "twin@two.test", "password-two-2");
        assertNotEquals(first.getJsonObject("tenant").getString("slug"), second.getJsonObject("tenant").getString("slug"));
    }

    @Test
    @DisplayName("login with the right password opens a session; a wrong password or unknown account gets 401")
    void login() {
        api.signUp("Login Org", "login@org.test", "s3cret-password");
        JsonObject session = api.login("LOGIN@org.test", "s3cret-password");
        assertEquals(200, api.get("/api/v1/me", session.getString("accessToken")).statusCode());
        assertProblem(api.post("/api/v1/auth/login", null,
                new JsonObject().put("email", "login@org.test").put("password", "wrong-password")), 401);
        assertProblem(api.post("/api/v1/auth/login", null,
                new JsonObject().put("email", "nobody@org.test").put("password", "whatever-pass")), 401);
    }

    @Test
    @DisplayName("refresh rotates the token; replaying a used token revokes the whole session")
    void refreshRotationAndReplay() {
        api.signUp("Rotate Org", "rotate@org.test", "rotate-password");
        JsonObject s1 = api.login("rotate@org.test", "rotate-password");

        HttpResponse<Buffer> r2 = api.post("/api/v1/auth/refresh", null,
                new JsonObject().put("refreshToken", s1.getString("refreshToken")));
        assertEquals(200, r2.statusCode(), r2.bodyAsString());
        JsonObject s2 = r2.bodyAsJsonObject();
        assertNotEquals(s1.getString("refreshToken"), s2.getString("refreshToken"));
        assertEquals(200, api.get("/api/v1/me", s2.getString("accessToken")).statusCode());

        // Replay of the first (used) token: refused, and the session family is revoked.
        JsonObject problem = assertProblem(api.post("/api/v1/auth/refresh", null,
                new JsonObject().put("refreshToken", s1.getString("refreshToken"))), 401);
        assertTrue(problem.getString("detail").contains("already used"), problem.encode());
        assertProblem(api.post("/api/v1/auth/refresh", null,
                new JsonObject().put("refreshToken", s2.getString("refreshToken"))), 401);
        assertProblem(api.get("/api/v1/me", s2.getString("accessToken")), 401);

        // Another login is a separate session and is unaffected.
        JsonObject other = api.login("rotate@org.test", "rotate-password");
        assertEquals(200, api.get("/api/v1/me", other.getString("accessToken")).statusCode());
        assertProblem(api.post("/api/v1/auth/refresh", null, new JsonObject().put("refreshToken", "mmr_made-up")), 401);
    }

    @Test
    @DisplayName("the web UI's refresh token travels in an HttpOnly, Secure, SameSite=Strict cookie and refreshes without a body")
    void refreshCookie() {
        api.signUp("Cookie Org", "cookie@org.test", "cookie-password");
        HttpResponse<Buffer> login = api.post("/api/v1/auth/login", null,
                new JsonObject().put("email", "cookie@org.test").put("password", "cookie-password"));
        String setCookie = login.cookies().stream().filter(c -> c.startsWith("mm_refresh=")).findFirst().orElseThrow();
        assertTrue(setCookie.toLowerCase().contains("httponly") && setCookie.contains("Secure") && setCookie.contains("SameSite=Strict")
                && setCookie.contains("Path=/api/v1/auth"), setCookie);
        String cookie = setCookie.split(";", 2)[0];
        HttpResponse<Buffer> refreshed = Api.await(api.request(io.vertx.core.http.HttpMethod.POST, "/api/v1/auth/refresh", null)
                .putHeader("Cookie", cookie).send());
        assertEquals(200, refreshed.statusCode(), refreshed.bodyAsString());
        assertEquals(200, api.get("/api/v1/me", refreshed.bodyAsJsonObject().getString("accessToken")).statusCode());
        HttpResponse<Buffer> replay = Api.await(api.request(io.vertx.core.http.HttpMethod.POST, "/api/v1/auth/refresh", null)
                .putHeader("Cookie", cookie).send());
        assertProblem(replay, 401);
    }

    @Test
    @DisplayName("logout ends the session: its access and refresh tokens stop working")
    void logout() {
        api.signUp("Logout Org", "logout@org.test", "logout-password");
        JsonObject s = api.login("logout@org.test", "logout-password");
        JsonObject other = api.login("logout@org.test", "logout-password");
        assertEquals(204, api.post("/api/v1/auth/logout", s.getString("accessToken"), null).statusCode());
        assertProblem(api.get("/api/v1/me", s.getString("accessToken")), 401);
        assertProblem(api.post("/api/v1/auth/refresh", null,
                new JsonObject().put("refreshToken", s.getString("refreshToken"))), 401);
        assertEquals(200, api.get("/api/v1/me", other.getString("accessToken")).statusCode());
    }

    @Test
    @DisplayName("repeated failed logins are rate limited with 429 and Retry-After, even with the right password")
    void bruteForceIsThrottled() {
        api.signUp("Brute Org", "brute@org.test", "brute-password");
        for (int i = 0; i < 5; i++) {
            assertProblem(api.post("/api/v1/auth/login", null,
                    new JsonObject().put("email", "brute@org.test").put("password", "guess-" + i)), 401);
        }
        HttpResponse<Buffer> limited = api.post("/api/v1/auth/login", null,
                new JsonObject().put("email", "brute@org.test").put("password", "brute-password"));
        assertProblem(limited, 429);
        assertTrue(Long.parseLong(limited.getHeader("Retry-After")) > 0);
    }

    @Test
    @DisplayName("an attacker throttled after 5 wrong passwords from one address does not lock the owner out: the owner logs in from another address at once")
    void throttleIsNotALockout(Vertx vertx) {
        api.signUp("Lockout Org", "lockout@org.test", "lockout-password");
        for (int i = 0; i < 5; i++) {
            assertProblem(api.post("/api/v1/auth/login", null,
                    new JsonObject().put("email", "lockout@org.test").put("password", "guess-" + i)), 401);
        }
        assertProblem(api.post("/api/v1/auth/login", null,
                new JsonObject().put("email", "lockout@org.test").put("password", "guess-6")), 429);
        // the owner, from another client address (loopback 127.0.0.2 reaches the server on 127.0.0.1)
        WebClient owner = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                .setDefaultPort(platform.port()).setLocalAddress("127.0.0.2"));
        try {
            HttpResponse<Buffer> in = Api.await(owner.post("/api/v1/auth/login").sendJsonObject(
                    new JsonObject().put("email", "lockout@org.test").put("password", "lockout-password")));
            assertEquals(200, in.statusCode(), in.bodyAsString());
        } finally {
            owner.close();
        }
        // and the attacker's address is still throttled
        assertProblem(api.post("/api/v1/auth/login", null,
                new JsonObject().put("email", "lockout@org.test").put("password", "lockout-password")), 429);
    }

    @Test
    @DisplayName("a cookie refresh whose Origin or Sec-Fetch-Site says another site is refused with 403 (CSRF); the same origin is served")
    void crossSiteCookieRefused() {
        api.signUp("Csrf Org", "csrf@org.test", "csrf-password");
        HttpResponse<Buffer> login = api.post("/api/v1/auth/login", null,
                new JsonObject().put("email", "csrf@org.test").put("password", "csrf-password"));
        String cookie = login.cookies().stream().filter(c -> c.startsWith("mm_refresh=")).findFirst().orElseThrow().split(";", 2)[0];
        String[][] crossSite = {{"Origin", "https://evil.example"}, {"Origin", "null"}, {"Origin", "http://127.0.0.1:1"},
                {"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"}};
        for (String[] header : crossSite) {
            HttpResponse<Buffer> refused = Api.await(api.request(io.vertx.core.http.HttpMethod.POST, "/api/v1/auth/refresh", null)
                    .putHeader("Cookie", cookie).putHeader(header[0], header[1]).send());
            JsonObject problem = assertProblem(refused, 403);
            assertEquals("/problems/cross-site-request", problem.getString("type"), header[0] + ": " + header[1]);
        }
        // the refused attempts did not spend the token: the web UI itself refreshes with it
        HttpResponse<Buffer> sameOrigin = Api.await(api.request(io.vertx.core.http.HttpMethod.POST, "/api/v1/auth/refresh", null)
                .putHeader("Cookie", cookie).putHeader("Origin", "http://127.0.0.1:" + platform.port())
                .putHeader("Sec-Fetch-Site", "same-origin").send());
        assertEquals(200, sameOrigin.statusCode(), sameOrigin.bodyAsString());
    }
}
