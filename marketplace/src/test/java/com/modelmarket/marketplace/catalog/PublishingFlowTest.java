package com.modelmarket.marketplace.catalog;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.freePlan;
import static com.modelmarket.marketplace.support.Publishing.plan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@StartedPlatform
class PublishingFlowTest {

    private static Platform platform;
    private static Api api;
    private static String publisher;
    private static String consumer;
    private static String outsider;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
        publisher = accessToken(api.signUp("Pub Labs", "owner@pub.test", "publisher-password"));
        consumer = accessToken(api.signUp("Consumer Co", "owner@consumer.test", "consumer-password"));
        outsider = accessToken(api.signUp("Outsider Inc", "owner@outsider.test", "outsider-password"));
    }

    private static List<String> searchSlugs(String token, String query) {
        HttpResponse<Buffer> r = api.get("/api/v1/catalog?limit=100&q=" + query, token);
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject().getJsonArray("items").stream()
                .map(o -> ((JsonObject) o).getString("slug")).toList();
    }

    @Test
    @DisplayName("upload → validate → publish → visible in search, with what the platform measured")
    void uploadValidatePublishSearch() {
        createModel(api, publisher, "flow-digits", "public", new JsonObject()
                .put("description", "Recognises handwritten zebradigits").put("tags", new JsonArray().add("digits")));
        HttpResponse<Buffer> draft = Publishing.addVersion(api, publisher, "flow-digits", "1.0.0", "digits_mlp");
        assertEquals(201, draft.statusCode(), draft.bodyAsString());
        JsonObject measured = draft.bodyAsJsonObject().getJsonObject("measured");
        assertEquals("draft", draft.bodyAsJsonObject().getString("state"));
        assertTrue(measured.getLong("artifactSizeBytes") > 1000);
        assertTrue(measured.getLong("singleItemLatencyMicros") > 0);

        assertFalse(searchSlugs(consumer, "zebradigits").contains("flow-digits"), "a draft is not on the market");
        assertProblem(api.get("/api/v1/models/flow-digits", consumer), 404);

        assertEquals("published", api.post("/api/v1/models/flow-digits/versions/1.0.0/publish", publisher, null)
                .bodyAsJsonObject().getString("state"));
        assertEquals(List.of("flow-digits"), searchSlugs(consumer, "zebradigits"));
        assertEquals(List.of("flow-digits"), searchSlugs(null, "zebradigits"), "anonymous visitors see public models");
        JsonObject page = api.get("/api/v1/models/flow-digits", consumer).bodyAsJsonObject();
        assertEquals("1.0.0", page.getJsonObject("aliases").getString("latest"));
        assertEquals(new JsonObject().put("slug", "pub-labs").put("name", "Pub Labs"), page.getJsonObject("publisher"));
        assertEquals(1, page.getJsonArray("versions").size());
    }

    @Test
    @DisplayName("aliases move, and rollback moves one back; deprecate keeps serving, retire needs the aliases moved first")
    void aliasesRollbackAndLifecycle() {
        createModel(api, publisher, "flow-alias", "public", new JsonObject());
        publishVersion(api, publisher, "flow-alias", "1.0.0", "digits_mlp");
        publishVersion(api, publisher, "flow-alias", "1.1.0", "digits_cnn");
        JsonObject aliases = api.get("/api/v1/models/flow-alias", publisher).bodyAsJsonObject().getJsonObject("aliases");
        assertEquals("1.1.0", aliases.getString("latest"));

        HttpResponse<Buffer> stable = api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/flow-alias/aliases/stable",
                publisher, new JsonObject().put("version", "1.1.0"));
        assertEquals("1.1.0", stable.bodyAsJsonObject().getJsonObject("aliases").getString("stable"));
        HttpResponse<Buffer> rollback = api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/flow-alias/aliases/latest",
                publisher, new JsonObject().put("version", "1.0.0"));
        assertEquals(200, rollback.statusCode(), rollback.bodyAsString());
        assertEquals("1.0.0", api.get("/api/v1/models/flow-alias", consumer).bodyAsJsonObject()
                .getJsonObject("aliases").getString("latest"));

        assertEquals("deprecated", api.post("/api/v1/models/flow-alias/versions/1.0.0/deprecate", publisher, null)
                .bodyAsJsonObject().getString("state"));
        assertProblem(api.post("/api/v1/models/flow-alias/versions/1.0.0/retire", publisher, null), 409);
        api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/flow-alias/aliases/latest", publisher,
                new JsonObject().put("version", "1.1.0"));
        assertEquals("retired", api.post("/api/v1/models/flow-alias/versions/1.0.0/retire", publisher, null)
                .bodyAsJsonObject().getString("state"));
        assertProblem(api.post("/api/v1/models/flow-alias/versions/1.0.0/publish", publisher, null), 409);
        assertProblem(api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/flow-alias/aliases/old", publisher,
                new JsonObject().put("version", "1.0.0")), 409);
    }

    @Test
    @DisplayName("private models are seen by their tenant only; shared ones by the named tenants too; public by all")
    void visibility() {
        createModel(api, publisher, "vis-private", "private", new JsonObject().put("summary", "quokkavis"));
        createModel(api, publisher, "vis-shared", "shared", new JsonObject().put("summary", "quokkavis")
                .put("sharedWith", new JsonArray().add("consumer-co")));
        createModel(api, publisher, "vis-public", "public", new JsonObject().put("summary", "quokkavis"));
        for (String slug : List.of("vis-private", "vis-shared", "vis-public")) {
            publishVersion(api, publisher, slug, "1.0.0", "diabetes_regressor");
        }
        assertEquals(List.of("vis-public", "vis-shared", "vis-private"), sorted(searchSlugs(publisher, "quokkavis")));
        assertEquals(List.of("vis-public", "vis-shared"), sorted(searchSlugs(consumer, "quokkavis")));
        assertEquals(List.of("vis-public"), searchSlugs(outsider, "quokkavis"));
        assertEquals(List.of("vis-public"), searchSlugs(null, "quokkavis"));
        assertProblem(api.get("/api/v1/models/vis-private", consumer), 404);
        assertEquals(200, api.get("/api/v1/models/vis-shared", consumer).statusCode());
        assertProblem(api.get("/api/v1/models/vis-shared", outsider), 404);
        assertProblem(api.patch("/api/v1/models/vis-public", publisher, new JsonObject()
                .put("visibility", "shared").put("sharedWith", new JsonArray().add("no-such-org"))), 400);
    }

    private static List<String> sorted(List<String> slugs) {
        return slugs.stream().sorted((a, b) -> order(a) - order(b)).toList();
    }

    private static int order(String slug) {
        return List.of("vis-public", "vis-shared", "vis-private").indexOf(slug);
    }

    @Test
    @DisplayName("each plan type is defined with its own fields; wrong combinations are refused")
    void planTypes() {
        createModel(api, publisher, "flow-plans", "public", new JsonObject());
        publishVersion(api, publisher, "flow-plans", "1.0.0", "digits_mlp");
        JsonObject free = freePlan(api, publisher, "flow-plans");
        JsonObject payg = plan(api, publisher, "flow-plans", new JsonObject().put("name", "PAYG").put("type", "pay_as_you_go")
                .put("currency", "EUR").put("pricePer1000Minor", 50).put("rateLimitPerMinute", 600));
        JsonObject monthly = plan(api, publisher, "flow-plans", new JsonObject().put("name", "Pro").put("type", "monthly")
                .put("currency", "USD").put("monthlyFeeMinor", 4900).put("includedCalls", 100000)
                .put("pricePer1000Minor", 30).put("rateLimitPerMinute", 6000));
        assertEquals(1000, free.getLong("includedCalls"));
        assertEquals(50, payg.getLong("pricePer1000Minor"));
        assertEquals(4900, monthly.getLong("monthlyFeeMinor"));
        assertEquals(3, api.get("/api/v1/models/flow-plans/plans", consumer).bodyAsJsonObject().getJsonArray("items").size());

        assertProblem(api.post("/api/v1/models/flow-plans/plans", publisher, new JsonObject().put("name", "x").put("type", "free")
                .put("currency", "EUR").put("includedCalls", 10).put("pricePer1000Minor", 5)), 400);
        assertProblem(api.post("/api/v1/models/flow-plans/plans", publisher, new JsonObject().put("name", "x").put("type", "monthly")
                .put("currency", "EUR")), 400);
        assertProblem(api.post("/api/v1/models/flow-plans/plans", publisher, new JsonObject().put("name", "x")
                .put("type", "pay_as_you_go").put("currency", "EUR").put("pricePer1000Minor", 1.5)), 400);
        assertProblem(api.post("/api/v1/models/flow-plans/plans", consumer, new JsonObject().put("name", "x").put("type", "free")
                .put("currency", "EUR").put("includedCalls", 10)), 404);
    }

    @Test
    @DisplayName("a tenant subscribes to a plan, changes plan and cancels, all in its audit log")
    void subscribeChangeCancel() {
        createModel(api, publisher, "flow-subs", "public", new JsonObject());
        publishVersion(api, publisher, "flow-subs", "1.0.0", "digits_mlp");
        JsonObject free = freePlan(api, publisher, "flow-subs");
        JsonObject payg = plan(api, publisher, "flow-subs", new JsonObject().put("name", "PAYG").put("type", "pay_as_you_go")
                .put("currency", "EUR").put("pricePer1000Minor", 50).put("rateLimitPerMinute", 600));

        HttpResponse<Buffer> sub = api.post("/api/v1/subscriptions", consumer,
                new JsonObject().put("model", "flow-subs").put("planId", free.getString("id")));
        assertEquals(201, sub.statusCode(), sub.bodyAsString());
        String id = sub.bodyAsJsonObject().getString("id");
        assertProblem(api.post("/api/v1/subscriptions", consumer,
                new JsonObject().put("model", "flow-subs").put("planId", payg.getString("id"))), 409);

        HttpResponse<Buffer> changed = api.patch("/api/v1/subscriptions/" + id, consumer, new JsonObject().put("planId", payg.getString("id")));
        assertEquals("PAYG", changed.bodyAsJsonObject().getString("planName"));
        HttpResponse<Buffer> cancelled = api.delete("/api/v1/subscriptions/" + id, consumer);
        assertEquals("cancelled", cancelled.bodyAsJsonObject().getString("status"));
        assertProblem(api.delete("/api/v1/subscriptions/" + id, consumer), 409);
        assertEquals(201, api.post("/api/v1/subscriptions", consumer,
                new JsonObject().put("model", "flow-subs").put("planId", free.getString("id"))).statusCode(), "resubscribe");

        List<String> actions = api.get("/api/v1/audit-log", consumer).bodyAsJsonObject().getJsonArray("items").stream()
                .map(o -> ((JsonObject) o).getString("action")).toList();
        assertTrue(actions.containsAll(List.of("subscription.create", "subscription.change", "subscription.cancel")), actions.toString());
        JsonObject entry = api.get("/api/v1/audit-log", publisher).bodyAsJsonObject().getJsonArray("items").getJsonObject(0);
        assertEquals("owner@pub.test", entry.getString("actorEmail"));
        assertTrue(entry.getString("clientAddress") != null && entry.getString("at") != null);
    }
}
