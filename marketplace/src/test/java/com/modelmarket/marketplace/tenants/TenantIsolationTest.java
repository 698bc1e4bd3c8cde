package com.modelmarket.marketplace.tenants;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every route that takes an id, called by another tenant's owner with every method it accepts:
 * always 404, and nothing changes for the tenant that owns the resource.
 */
@StartedPlatform
class TenantIsolationTest {

    private static Platform platform;
    private static Api api;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
    }

    private record Attempt(HttpMethod method, String path, JsonObject body) {
    }

    @Test
    @DisplayName("another tenant's members and API keys answer 404 to every method, and stay unchanged")
    void crossTenantIdsAnswer404() {
        String ownerA = accessToken(api.signUp("Tenant A", "owner@a.test", "owner-a-password"));
        String ownerB = accessToken(api.signUp("Tenant B", "owner@b.test", "owner-b-password"));
        JsonObject memberB = api.post("/api/v1/members", ownerB, new JsonObject()
                .put("email", "member@b.test").put("password", "member-password").put("role", "member")).bodyAsJsonObject();
        JsonObject keyB = api.post("/api/v1/api-keys", ownerB, new JsonObject().put("name", "b's key")).bodyAsJsonObject();
        String ownerBId = api.get("/api/v1/me", ownerB).bodyAsJsonObject().getString("userId");

        List<Attempt> attempts = List.of(
                new Attempt(HttpMethod.GET, "/api/v1/members/" + memberB.getString("id"), null),
                new Attempt(HttpMethod.PATCH, "/api/v1/members/" + memberB.getString("id"), new JsonObject().put("role", "owner")),
                new Attempt(HttpMethod.DELETE, "/api/v1/members/" + memberB.getString("id"), null),
                new Attempt(HttpMethod.GET, "/api/v1/members/" + ownerBId, null),
                new Attempt(HttpMethod.PATCH, "/api/v1/members/" + ownerBId, new JsonObject().put("role", "member")),
                new Attempt(HttpMethod.DELETE, "/api/v1/members/" + ownerBId, null),
                new Attempt(HttpMethod.GET, "/api/v1/api-keys/" + keyB.getString("id"), null),
                new Attempt(HttpMethod.DELETE, "/api/v1/api-keys/" + keyB.getString("id"), null));
        for (Attempt a : attempts) {
            JsonObject problem = assertProblem(api.send(a.method(), a.path(), ownerA, a.body()), 404);
            assertEquals("/problems/not-found", problem.getString("type"), a.method() + " " + a.path());
        }

        // Nothing changed for tenant B.
        assertEquals("member", api.get("/api/v1/members/" + memberB.getString("id"), ownerB).bodyAsJsonObject().getString("role"));
        assertEquals("owner", api.get("/api/v1/members/" + ownerBId, ownerB).bodyAsJsonObject().getString("role"));
        assertNull(api.get("/api/v1/api-keys/" + keyB.getString("id"), ownerB).bodyAsJsonObject().getString("revokedAt"));
        assertEquals(200, api.get("/api/v1/key-info", keyB.getString("secret")).statusCode());
        assertEquals(200, api.get("/api/v1/me", accessToken(api.login("member@b.test", "member-password"))).statusCode());

        // Lists only ever show the caller's own tenant.
        assertEquals(1, api.get("/api/v1/members", ownerA).bodyAsJsonObject().getJsonArray("items").size());
        assertEquals(0, api.get("/api/v1/api-keys", ownerA).bodyAsJsonObject().getJsonArray("items").size());
        assertEquals("tenant-a", api.get("/api/v1/tenant", ownerA).bodyAsJsonObject().getString("slug"));
    }

    @Test
    @DisplayName("malformed and unknown ids answer 404 too")
    void unknownIds() {
        String owner = accessToken(api.signUp("Tenant C", "owner@c.test", "owner-c-password"));
        assertProblem(api.get("/api/v1/members/not-a-uuid", owner), 404);
        assertProblem(api.get("/api/v1/api-keys/00000000-0000-0000-0000-000000000000", owner), 404);
        assertProblem(api.delete("/api/v1/api-keys/00000000-0000-0000-0000-000000000000", owner), 404);
    }
}
