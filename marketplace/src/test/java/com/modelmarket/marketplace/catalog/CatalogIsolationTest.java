package com.modelmarket.marketplace.catalog;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.freePlan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Another tenant cannot see private models, publish into others' models, or read others' subscriptions and audit logs. */
@StartedPlatform
class CatalogIsolationTest {

    private static Platform platform;
    private static Api api;
    private static String publisher;
    private static String other;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
        publisher = accessToken(api.signUp("Iso Publisher", "owner@isopub.test", "publisher-password"));
        other = accessToken(api.signUp("Iso Other", "owner@isoother.test", "other-password"));
    }

    @Test
    @DisplayName("a private model is invisible to another tenant: page, plans and search")
    void privateModel() {
        createModel(api, publisher, "iso-private", "private", new JsonObject().put("summary", "wombatiso"));
        publishVersion(api, publisher, "iso-private", "1.0.0", "digits_mlp");
        freePlan(api, publisher, "iso-private");
        assertProblem(api.get("/api/v1/models/iso-private", other), 404);
        assertProblem(api.get("/api/v1/models/iso-private/plans", other), 404);
        assertTrue(api.get("/api/v1/catalog?q=wombatiso", other).bodyAsJsonObject().getJsonArray("items").isEmpty());
        assertEquals(1, api.get("/api/v1/catalog?q=wombatiso", publisher).bodyAsJsonObject().getJsonArray("items").size());
    }

    @Test
    @DisplayName("another tenant cannot publish into, edit, alias, plan or retire a publisher's model (404), and nothing changes")
    void cannotPublishIntoOthersModel() {
        createModel(api, publisher, "iso-public", "public", new JsonObject());
        publishVersion(api, publisher, "iso-public", "1.0.0", "digits_mlp");
        JsonObject plan = freePlan(api, publisher, "iso-public");

        var version = Publishing.addVersion(api, other, "iso-public", "9.9.9", "digits_mlp");
        assertProblem(version, 404);
        assertProblem(api.patch("/api/v1/models/iso-public", other, new JsonObject().put("name", "hijacked")), 404);
        assertProblem(api.send(HttpMethod.PUT, "/api/v1/models/iso-public/aliases/latest", other,
                new JsonObject().put("version", "1.0.0")), 404);
        assertProblem(api.delete("/api/v1/models/iso-public/aliases/latest", other), 404);
        assertProblem(api.post("/api/v1/models/iso-public/versions/1.0.0/retire", other, null), 404);
        assertProblem(api.post("/api/v1/models/iso-public/plans", other, new JsonObject().put("name", "x")
                .put("type", "free").put("currency", "EUR").put("includedCalls", 5)), 404);
        assertProblem(api.delete("/api/v1/models/iso-public/plans/" + plan.getString("id"), other), 404);

        JsonObject page = api.get("/api/v1/models/iso-public", publisher).bodyAsJsonObject();
        assertEquals("Model iso-public", page.getString("name"));
        assertEquals(1, page.getJsonArray("versions").size());
        assertEquals("published", page.getJsonArray("versions").getJsonObject(0).getString("state"));
        assertEquals(1, api.get("/api/v1/models/iso-public/plans", other).bodyAsJsonObject().getJsonArray("items").size());
    }

    @Test
    @DisplayName("another tenant's subscriptions and audit log answer 404 or stay out of lists")
    void subscriptionsAndAudit() {
        createModel(api, publisher, "iso-subs", "public", new JsonObject());
        publishVersion(api, publisher, "iso-subs", "1.0.0", "digits_mlp");
        JsonObject plan = freePlan(api, publisher, "iso-subs");
        String subscriber = accessToken(api.signUp("Iso Subscriber", "owner@isosub.test", "subscriber-password"));
        String id = api.post("/api/v1/subscriptions", subscriber, new JsonObject().put("model", "iso-subs")
                .put("planId", plan.getString("id"))).bodyAsJsonObject().getString("id");

        for (String stranger : new String[] {other, publisher}) {
            assertProblem(api.get("/api/v1/subscriptions/" + id, stranger), 404);
            assertProblem(api.patch("/api/v1/subscriptions/" + id, stranger, new JsonObject().put("planId", plan.getString("id"))), 404);
            assertProblem(api.delete("/api/v1/subscriptions/" + id, stranger), 404);
            assertFalse(api.get("/api/v1/subscriptions", stranger).bodyAsString().contains(id));
            assertFalse(api.get("/api/v1/audit-log", stranger).bodyAsString().contains(id));
        }
        assertEquals("active", api.get("/api/v1/subscriptions/" + id, subscriber).bodyAsJsonObject().getString("status"));
        assertTrue(api.get("/api/v1/audit-log", subscriber).bodyAsString().contains(id));
    }
}
