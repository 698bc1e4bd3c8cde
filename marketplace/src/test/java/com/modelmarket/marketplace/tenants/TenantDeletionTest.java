package com.modelmarket.marketplace.tenants;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.freePlan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Deleting an organisation ({@code DELETE /api/v1/tenant}): only its owner may; afterwards its
 * people cannot log in, refresh or use their access tokens, its API keys answer 401 within the
 * key cache's lifetime, its public models leave the catalog (and their subscribers' plans end),
 * while its usage stays for the books.
 */
@StartedPlatform
class TenantDeletionTest {

    private static final long KEY_CACHE_MILLIS = 500;

    private static Platform platform;
    private static Api api;
    private static DbTarget db;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
        db = platform.services().database().target();
    }

    @Test
    @DisplayName("a deleted tenant is shut out at once, its models leave the catalog, and its usage is kept")
    void deletedTenantIsShutOut() throws Exception {
        JsonObject signUp = api.signUp("Leaving Labs", "owner@leaving.test", "owner-password");
        String owner = accessToken(signUp);
        String refresh = signUp.getJsonObject("session").getString("refreshToken");
        UUID tenant = UUID.fromString(signUp.getJsonObject("tenant").getString("id"));
        assertEquals(201, api.post("/api/v1/members", owner, new JsonObject().put("email", "admin@leaving.test")
                .put("password", "admin-password").put("role", "admin")).statusCode());
        String admin = accessToken(api.login("admin@leaving.test", "admin-password"));

        createModel(api, owner, "leaving-digits", "public", new JsonObject());
        publishVersion(api, owner, "leaving-digits", "1.0.0", "digits_mlp");
        String planId = freePlan(api, owner, "leaving-digits").getString("id");
        String key = api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "own")).bodyAsJsonObject().getString("secret");

        String consumer = accessToken(api.signUp("Staying Co", "owner@staying.test", "consumer-password"));
        String subscription = api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", "leaving-digits")
                .put("planId", planId)).bodyAsJsonObject().getString("id");
        String consumerKey = api.post("/api/v1/api-keys", consumer, new JsonObject().put("name", "c")).bodyAsJsonObject()
                .getString("secret");

        JsonObject example = Publishing.manifest("digits_mlp").getJsonObject("example");
        assertEquals(200, api.post("/v2/models/leaving-digits/infer", key, example).statusCode());
        assertEquals(200, api.post("/v2/models/leaving-digits/infer", consumerKey, example).statusCode());
        awaitCount("SELECT coalesce(sum(calls), 0) FROM usage_rollups WHERE tenant_id = ?", tenant, 1);
        assertTrue(catalogHas("leaving-digits"));

        // Only an owner deletes the organisation.
        assertProblem(api.delete("/api/v1/tenant", admin), 403);
        assertEquals(200, api.get("/api/v1/me", admin).statusCode());

        HttpResponse<Buffer> deleted = api.delete("/api/v1/tenant", owner);
        assertEquals(204, deleted.statusCode(), deleted.bodyAsString());
        long deletedAt = System.nanoTime();

        // People: sessions end, no new ones.
        assertProblem(api.get("/api/v1/me", owner), 401);
        assertProblem(api.get("/api/v1/me", admin), 401);
        assertProblem(api.delete("/api/v1/tenant", owner), 401);
        assertProblem(api.post("/api/v1/auth/refresh", null, new JsonObject().put("refreshToken", refresh)), 401);
        assertProblem(api.post("/api/v1/auth/login", null, new JsonObject().put("email", "owner@leaving.test")
                .put("password", "owner-password")), 401);
        assertProblem(api.post("/api/v1/auth/login", null, new JsonObject().put("email", "admin@leaving.test")
                .put("password", "admin-password")), 401);

        // Programs: the key stops within the key cache's lifetime.
        await("the deleted tenant's key still works after the key cache's lifetime")
                .atMost(Duration.ofNanos(deletedAt - System.nanoTime()).plusMillis(KEY_CACHE_MILLIS + 250))
                .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(25))
                .untilAsserted(() -> assertEquals(401, api.get("/api/v1/key-info", key).statusCode()));
        assertProblem(api.post("/v2/models/leaving-digits/infer", key, example), 401);

        // The catalog: its public model is gone for everyone, and its subscribers' plans ended.
        assertTrue(!catalogHas("leaving-digits"));
        assertProblem(api.get("/api/v1/models/leaving-digits", null), 404);
        assertProblem(api.get("/api/v1/models/leaving-digits", consumer), 404);
        await("the deleted model stops serving within the inference target cache's lifetime")
                .atMost(Duration.ofMillis(1_100)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertProblem(api.post("/v2/models/leaving-digits/infer", consumerKey, example), 404));
        assertEquals("cancelled", api.get("/api/v1/subscriptions/" + subscription, consumer).bodyAsJsonObject()
                .getString("status"));
        assertEquals(1, api.get("/api/v1/audit-log", consumer).bodyAsJsonObject().getJsonArray("items").stream()
                .map(JsonObject.class::cast).filter(e -> "subscription.cancel".equals(e.getString("action"))).count());

        // The books: the tenant's row, usage and audit trail are kept.
        assertEquals(1, Sql.count(db, "SELECT count(*) FROM tenants WHERE id = ? AND deleted_at IS NOT NULL", tenant));
        assertTrue(Sql.count(db, "SELECT coalesce(sum(calls), 0) FROM usage_rollups WHERE tenant_id = ?", tenant) >= 1);
        assertEquals(1, Sql.count(db, "SELECT count(*) FROM audit_log WHERE tenant_id = ? AND action = 'tenant.delete'", tenant));
        assertEquals(0, Sql.count(db, "SELECT count(*) FROM subscription_segments WHERE subscription_id = ?::uuid "
                + "AND active_to IS NULL", subscription));

        // The other tenant carries on.
        assertEquals(200, api.get("/api/v1/me", consumer).statusCode());
        assertEquals(200, api.get("/api/v1/key-info", consumerKey).statusCode());
    }

    private static boolean catalogHas(String slug) {
        HttpResponse<Buffer> r = api.get("/api/v1/catalog?limit=100", null);
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject().getJsonArray("items").stream().map(JsonObject.class::cast)
                .anyMatch(m -> slug.equals(m.getString("slug")));
    }

    private static void awaitCount(String sql, Object param, long atLeast) {
        await(sql).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> Sql.count(db, sql, param) >= atLeast);
    }
}
