package com.modelmarket.marketplace.apikeys;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@StartedPlatform
class ApiKeyTest {

    private static Platform platform;
    private static Api api;
    private static String owner;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
        owner = accessToken(api.signUp("Keys Org", "keys@org.test", "keys-password-1"));
    }

    private static JsonObject create(String name, JsonObject extra) {
        HttpResponse<Buffer> r = api.post("/api/v1/api-keys", owner, new JsonObject().put("name", name).mergeIn(extra));
        assertEquals(201, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    private static HttpResponse<Buffer> useBearer(String key) {
        return api.get("/api/v1/key-info", key);
    }

    @Test
    @DisplayName("a created key shows its secret once: recognisable prefix, at least 128 random bits; the list shows only prefix and last four")
    void createAndList() {
        JsonObject created = create("ci pipeline", new JsonObject().put("scopes", new JsonArray().add("inference")));
        String secret = created.getString("secret");
        assertTrue(secret.startsWith("mmk_"), secret);
        byte[] random = Base64.getUrlDecoder().decode(secret.substring(4));
        assertTrue(random.length * 8 >= 128, "random bits: " + random.length * 8);
        assertTrue(secret.startsWith(created.getString("prefix")));
        assertTrue(secret.endsWith(created.getString("lastFour")));

        HttpResponse<Buffer> list = api.get("/api/v1/api-keys", owner);
        assertEquals(200, list.statusCode());
        assertFalse(list.bodyAsString().contains(secret), "the list must not reveal the secret");
        JsonObject listed = list.bodyAsJsonObject().getJsonArray("items").stream().map(JsonObject.class::cast)
                .filter(k -> k.getString("id").equals(created.getString("id"))).findFirst().orElseThrow();
        assertEquals("ci pipeline", listed.getString("name"));
        assertEquals(created.getString("prefix"), listed.getString("prefix"));
        assertEquals(secret.substring(secret.length() - 4), listed.getString("lastFour"));
        assertEquals(new JsonArray().add("inference"), listed.getJsonArray("scopes"));
        assertNotNull(listed.getString("createdAt"));
        assertTrue(listed.containsKey("expiresAt"));
        assertNull(listed.getString("lastUsedAt"));
        assertFalse(api.get("/api/v1/api-keys/" + created.getString("id"), owner).bodyAsString().contains(secret));
    }

    @Test
    @DisplayName("a key authenticates with Authorization: Bearer and with X-API-Key, and records when it was last used")
    void use() {
        JsonObject created = create("use me", new JsonObject());
        String secret = created.getString("secret");
        HttpResponse<Buffer> r = useBearer(secret);
        assertEquals(200, r.statusCode(), r.bodyAsString());
        assertEquals(created.getString("id"), r.bodyAsJsonObject().getString("keyId"));
        HttpResponse<Buffer> viaHeader = Api.await(api.request(HttpMethod.GET, "/api/v1/key-info", null)
                .putHeader("X-API-Key", secret).send());
        assertEquals(200, viaHeader.statusCode());
        String id = created.getString("id");
        long deadline = System.currentTimeMillis() + 5000;
        String lastUsed = null;
        while (lastUsed == null && System.currentTimeMillis() < deadline) {
            lastUsed = api.get("/api/v1/api-keys/" + id, owner).bodyAsJsonObject().getString("lastUsedAt");
        }
        assertNotNull(lastUsed, "lastUsedAt was never recorded");
    }

    @Test
    @DisplayName("a revoked key stops working within one second")
    void revoke() {
        JsonObject created = create("to revoke", new JsonObject());
        String secret = created.getString("secret");
        assertEquals(200, useBearer(secret).statusCode());
        assertEquals(204, api.delete("/api/v1/api-keys/" + created.getString("id"), owner).statusCode());
        await("the key still worked one second after revocation").atMost(Duration.ofSeconds(1))
                .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20))
                .untilAsserted(() -> assertEquals(401, useBearer(secret).statusCode()));
        assertNotNull(api.get("/api/v1/api-keys/" + created.getString("id"), owner).bodyAsJsonObject().getString("revokedAt"));
        String log = api.get("/api/v1/audit-log", owner).bodyAsString();
        assertTrue(log.contains("\"apikey.create\"") && log.contains("\"apikey.revoke\""), log);
        assertFalse(log.contains(secret), "the audit log never holds a secret");
    }

    @Test
    @DisplayName("an expired key stops working")
    void expire() {
        Instant expiry = Instant.now().plusSeconds(2);
        JsonObject created = create("short lived", new JsonObject().put("expiresAt", expiry.toString()));
        assertEquals(200, useBearer(created.getString("secret")).statusCode());
        Duration untilExpiry = Duration.between(Instant.now(), expiry);
        await("the key stops working within 1.1 s of its expiry").pollDelay(untilExpiry.isNegative() ? Duration.ZERO : untilExpiry)
                .atMost(untilExpiry.plusMillis(1100)).pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertProblem(useBearer(created.getString("secret")), 401));
    }

    @Test
    @DisplayName("unknown keys, unknown scopes, past expiries and keys without the scope are refused")
    void refusals() {
        assertProblem(useBearer("mmk_" + "A".repeat(32)), 401);
        assertProblem(useBearer(null), 401);
        assertProblem(api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "x")
                .put("scopes", new JsonArray().add("admin"))), 400);
        assertProblem(api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "x")
                .put("expiresAt", Instant.now().minusSeconds(5).toString())), 400);
        JsonObject usageOnly = create("usage only", new JsonObject().put("scopes", new JsonArray().add("usage:read")));
        assertProblem(useBearer(usageOnly.getString("secret")), 403);
        // An API key is not an access token, and an access token is not an API key.
        assertProblem(api.get("/api/v1/me", create("not a jwt", new JsonObject()).getString("secret")), 401);
        assertProblem(useBearer(owner), 401);
    }
}
