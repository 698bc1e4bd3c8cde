package com.modelmarket.marketplace.tenants;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@StartedPlatform
class RolesTest {

    private static Platform platform;
    private static Api api;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
    }

    private static JsonObject addMember(String token, String email, String role) {
        HttpResponse<Buffer> r = api.post("/api/v1/members", token, new JsonObject()
                .put("email", email).put("password", "member-password").put("role", role));
        assertEquals(201, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    @Test
    @DisplayName("owners add admins, publishers and members, who log in with their role")
    void ownerAddsMembers() {
        String owner = accessToken(api.signUp("Roles Org", "owner@roles.test", "owner-password"));
        addMember(owner, "admin@roles.test", "admin");
        addMember(owner, "pub@roles.test", "publisher");
        addMember(owner, "member@roles.test", "member");
        assertEquals("publisher", api.get("/api/v1/me", accessToken(api.login("pub@roles.test", "member-password")))
                .bodyAsJsonObject().getString("role"));
        assertEquals(4, api.get("/api/v1/members", owner).bodyAsJsonObject().getJsonArray("items").size());
        assertProblem(api.post("/api/v1/members", owner, new JsonObject()
                .put("email", "x@roles.test").put("password", "member-password").put("role", "emperor")), 400);
    }

    @Test
    @DisplayName("members and publishers cannot manage members or API keys; admins cannot touch owners")
    void permissions() {
        String owner = accessToken(api.signUp("Perm Org", "owner@perm.test", "owner-password"));
        addMember(owner, "admin@perm.test", "admin");
        addMember(owner, "member@perm.test", "member");
        addMember(owner, "pub@perm.test", "publisher");
        String admin = accessToken(api.login("admin@perm.test", "member-password"));
        String member = accessToken(api.login("member@perm.test", "member-password"));
        String publisher = accessToken(api.login("pub@perm.test", "member-password"));

        for (String weak : new String[] {member, publisher}) {
            assertProblem(api.post("/api/v1/members", weak, new JsonObject()
                    .put("email", "new@perm.test").put("password", "member-password").put("role", "member")), 403);
            assertProblem(api.post("/api/v1/api-keys", weak, new JsonObject().put("name", "k")), 403);
            assertProblem(api.get("/api/v1/api-keys", weak), 403);
            assertEquals(200, api.get("/api/v1/members", weak).statusCode());
        }
        assertProblem(api.post("/api/v1/members", admin, new JsonObject()
                .put("email", "owner2@perm.test").put("password", "member-password").put("role", "owner")), 403);
        String ownerId = api.get("/api/v1/me", owner).bodyAsJsonObject().getString("userId");
        assertProblem(api.patch("/api/v1/members/" + ownerId, admin, new JsonObject().put("role", "member")), 403);
        assertProblem(api.delete("/api/v1/members/" + ownerId, admin), 403);
        assertEquals(201, api.post("/api/v1/api-keys", admin, new JsonObject().put("name", "k")).statusCode());
    }

    @Test
    @DisplayName("a role change takes effect at once; the last owner cannot leave or be demoted; a removed member's session ends")
    void changesAndLastOwner() {
        String owner = accessToken(api.signUp("Change Org", "owner@change.test", "owner-password"));
        JsonObject m = addMember(owner, "m@change.test", "member");
        String memberToken = accessToken(api.login("m@change.test", "member-password"));
        assertProblem(api.get("/api/v1/api-keys", memberToken), 403);

        HttpResponse<Buffer> promoted = api.patch("/api/v1/members/" + m.getString("id"), owner,
                new JsonObject().put("role", "admin"));
        assertEquals("admin", promoted.bodyAsJsonObject().getString("role"));
        assertEquals(200, api.get("/api/v1/api-keys", memberToken).statusCode(), "same token, new role");

        String ownerId = api.get("/api/v1/me", owner).bodyAsJsonObject().getString("userId");
        assertProblem(api.patch("/api/v1/members/" + ownerId, owner, new JsonObject().put("role", "admin")), 409);
        assertProblem(api.delete("/api/v1/members/" + ownerId, owner), 409);

        assertEquals(204, api.delete("/api/v1/members/" + m.getString("id"), owner).statusCode());
        assertProblem(api.get("/api/v1/me", memberToken), 401);
        assertProblem(api.get("/api/v1/members/" + m.getString("id"), owner), 404);
    }
}
