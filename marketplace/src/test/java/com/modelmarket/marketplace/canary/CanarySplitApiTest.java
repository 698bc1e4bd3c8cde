package com.modelmarket.marketplace.canary;

import static com.modelmarket.marketplace.canary.CanaryFixtures.addVersion;
import static com.modelmarket.marketplace.canary.CanaryFixtures.publish;
import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.plan;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A canary split of {@code latest} over the HTTP API, with 50 subscriber organisations: sticky per
 * tenant, metered by the version that answered, shown side by side with the labelled accuracy,
 * promoted at once; then per request (by request id) within a few percent of the share, and rolled
 * back. Nobody but the publisher sees the split.
 */
@StartedPlatform
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CanarySplitApiTest {

    private static final String MODEL = "bc-canary";
    private static final int TENANTS = 50;
    private static final int CALLS_PER_TENANT = 20;

    private static Api api;
    private static DbTarget db;
    private static String publisher;
    private static UUID modelId;
    private static final Map<String, UUID> versionIds = new HashMap<>();
    private static final List<UUID> tenantIds = new ArrayList<>();
    private static final List<String> keys = new ArrayList<>();
    private static final List<String[]> rows = CanaryFixtures.breastCancerRows();

    @BeforeAll
    static void start(Platform platform, Api client) {
        api = client;
        db = platform.services().database().target();
        publisher = accessToken(api.signUp("Canary Labs", "owner@canary.test", "publisher-password"));
        createModel(api, publisher, MODEL, "public", new JsonObject().put("task", "tabular-classification"));
        addVersion(api, publisher, MODEL, "1.0.0", "breast_cancer_fair");
        assertEquals(200, publish(api, publisher, MODEL, "1.0.0", null).statusCode());
        addVersion(api, publisher, MODEL, "1.1.0", "breast_cancer_better");
        assertEquals(200, publish(api, publisher, MODEL, "1.1.0", null).statusCode());
        // latest back on 1.0.0: the stable side; 1.1.0 is the canary
        assertEquals(200, api.send(HttpMethod.PUT, "/api/v1/models/" + MODEL + "/aliases/latest", publisher,
                new JsonObject().put("version", "1.0.0")).statusCode());
        JsonObject page = api.get("/api/v1/models/" + MODEL, publisher).bodyAsJsonObject();
        modelId = UUID.fromString(page.getString("id"));
        page.getJsonArray("versions").forEach(v -> versionIds.put(((JsonObject) v).getString("version"),
                UUID.fromString(((JsonObject) v).getString("id"))));
        String planId = plan(api, publisher, MODEL, new JsonObject().put("name", "Free").put("type", "free").put("currency", "EUR")
                .put("includedCalls", 10_000).put("rateLimitPerMinute", 10_000)).getString("id");
        for (int t = 0; t < TENANTS; t++) {
            JsonObject signUp = api.signUp("Caller " + t, "owner@caller" + t + ".test", "caller-password");
            String token = accessToken(signUp);
            tenantIds.add(UUID.fromString(signUp.getJsonObject("tenant").getString("id")));
            assertEquals(201, api.post("/api/v1/subscriptions", token, new JsonObject().put("model", MODEL).put("planId", planId))
                    .statusCode());
            keys.add(api.post("/api/v1/api-keys", token, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret"));
        }
    }

    private static HttpResponse<Buffer> split(int percent, String version, String stickiness) {
        return api.send(HttpMethod.PUT, "/api/v1/models/" + MODEL + "/aliases/latest/split", publisher,
                new JsonObject().put("version", version).put("percent", percent).put("stickiness", stickiness));
    }

    private static String call(int tenant, int n, String requestId) {
        var request = api.request(HttpMethod.POST, "/v2/models/" + MODEL + "/infer", keys.get(tenant));
        if (requestId != null) {
            request.putHeader("X-Request-Id", requestId);
        }
        HttpResponse<Buffer> r = Api.await(request.sendJsonObject(CanaryFixtures.request(rows.get((tenant * 31 + n) % rows.size()))));
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject().getString("model_version");
    }

    private static long metered(String version) {
        return Sql.count(db, "SELECT coalesce(sum(calls), 0) FROM usage_rollups WHERE version_id = ?::uuid",
                versionIds.get(version).toString());
    }

    @Test
    @Order(1)
    @DisplayName("split 80/20 by tenant: 1,000 calls from 50 tenants, each tenant always on one version, metered by the answering version, figures side by side; promote moves everyone at once")
    void tenantSplitThenPromote() {
        HttpResponse<Buffer> started = split(20, "1.1.0", "tenant");
        assertEquals(200, started.statusCode(), started.bodyAsString());
        assertEquals(80, started.bodyAsJsonObject().getJsonArray("versions").getJsonObject(0).getInteger("percent"));

        Map<String, Long> calls = new HashMap<>();
        Map<Integer, String> sideOf = new HashMap<>();
        for (int t = 0; t < TENANTS; t++) {
            Set<String> seen = new HashSet<>();
            for (int n = 0; n < CALLS_PER_TENANT; n++) {
                String version = call(t, n, null);
                seen.add(version);
                calls.merge(version, 1L, Long::sum);
            }
            assertEquals(1, seen.size(), "tenant " + t + " saw " + seen);
            sideOf.put(t, seen.iterator().next());
        }
        long canary = calls.getOrDefault("1.1.0", 0L);
        long stable = calls.getOrDefault("1.0.0", 0L);
        assertEquals(TENANTS * CALLS_PER_TENANT, canary + stable);
        // each tenant's side is assigned on its first call, balanced over the tenants seen: the 1,000 calls
        // land within a few percent of 80/20 (a hash of each tenant would give 20 % ± 6 points for 50 tenants)
        double share = (double) canary / (canary + stable);
        assertTrue(Math.abs(share - 0.20) <= 0.03, "canary share " + share + " of " + calls);
        long tenantsOnCanary = sideOf.values().stream().filter("1.1.0"::equals).count();
        assertEquals(tenantsOnCanary * CALLS_PER_TENANT, canary);

        // usage records carry the version that answered
        await().atMost(Duration.ofSeconds(20)).until(() -> metered("1.1.0") + metered("1.0.0") == canary + stable);
        assertEquals(canary, metered("1.1.0"));
        assertEquals(stable, metered("1.0.0"));

        // the console: both sides' figures, the labelled accuracy of each (the better model is right more often)
        JsonObject view = api.get("/api/v1/models/" + MODEL + "/aliases/latest/split", publisher).bodyAsJsonObject();
        JsonObject stableSide = view.getJsonArray("versions").getJsonObject(0);
        JsonObject canarySide = view.getJsonArray("versions").getJsonObject(1);
        assertEquals("1.0.0", stableSide.getString("version"));
        assertEquals(stable, stableSide.getLong("requests"));
        assertEquals(canary, canarySide.getLong("requests"));
        assertEquals(stable, stableSide.getLong("labelled"));
        assertEquals(0, stableSide.getLong("errors"));
        assertTrue(stableSide.getLong("p99Micros") >= stableSide.getLong("p50Micros") && stableSide.getLong("p50Micros") > 0, view.encode());
        assertTrue(stableSide.getDouble("accuracy") < 0.9, view.encode());
        assertTrue(canarySide.getDouble("accuracy") > 0.95, view.encode());

        // raising the share moves only stable tenants onto the canary, as few as it takes; lowering it moves canary ones back
        assertEquals(200, split(50, "1.1.0", "tenant").statusCode());
        Map<Integer, String> raised = new HashMap<>();
        for (int t = 0; t < TENANTS; t++) {
            raised.put(t, call(t, 100, null));
            if ("1.1.0".equals(sideOf.get(t))) {
                assertEquals("1.1.0", raised.get(t), "tenant " + t + " was on the canary and stays there");
            }
        }
        assertEquals(TENANTS / 2, raised.values().stream().filter("1.1.0"::equals).count(), "half the tenants at 50 %: " + raised);
        assertEquals(200, split(20, "1.1.0", "tenant").statusCode());
        for (int t = 0; t < TENANTS; t++) {
            String now = call(t, 101, null);
            if ("1.1.0".equals(now)) {
                assertEquals("1.1.0", raised.get(t), "tenant " + t + " was not on the canary at 50 %, so not at 20 % either");
            }
            assertEquals(now, call(t, 102, null), "tenant " + t + " keeps its side");
        }

        HttpResponse<Buffer> promoted = api.post("/api/v1/models/" + MODEL + "/aliases/latest/split/promote", publisher, null);
        assertEquals(200, promoted.statusCode(), promoted.bodyAsString());
        assertEquals("1.1.0", promoted.bodyAsJsonObject().getJsonObject("aliases").getString("latest"));
        for (int t = 0; t < TENANTS; t++) {
            assertEquals("1.1.0", call(t, 0, null), "tenant " + t + " right after the promotion");
        }
        assertProblem(api.get("/api/v1/models/" + MODEL + "/aliases/latest/split", publisher), 404);
    }

    @Test
    @Order(2)
    @DisplayName("split 80/20 by request id: 1,000 calls from 50 tenants land within a few percent of 80/20; a canary cannot be retired; roll back ends it")
    void requestSplitThenRollBack() {
        assertEquals(200, split(20, "1.0.0", "request").statusCode());
        int canary = 0;
        for (int i = 0; i < TENANTS * CALLS_PER_TENANT; i++) {
            canary += "1.0.0".equals(call(i % TENANTS, i, "canary-test-" + i)) ? 1 : 0;
        }
        double share = canary / (double) (TENANTS * CALLS_PER_TENANT);
        assertTrue(Math.abs(share - 0.20) <= 0.03, "canary share " + share);
        // the same request id lands on the same side again (a retry is routed as the call it retries)
        String first = call(7, 1, "canary-retry-0001");
        for (int i = 0; i < 5; i++) {
            assertEquals(first, call(i, 2, "canary-retry-0001"));
        }
        JsonObject conflict = assertProblem(api.post("/api/v1/models/" + MODEL + "/versions/1.0.0/retire", publisher, null), 409);
        assertTrue(conflict.getString("detail").contains("split"), conflict.encode());

        assertEquals(204, api.post("/api/v1/models/" + MODEL + "/aliases/latest/split/rollback", publisher, null).statusCode());
        for (int t = 0; t < TENANTS; t += 5) {
            for (int n = 0; n < 4; n++) {
                assertEquals("1.1.0", call(t, n, "after-rollback-" + t + "-" + n));
            }
        }
    }

    @Test
    @Order(3)
    @DisplayName("nobody but the publisher sees or changes a split, not even a subscriber: 404; bad settings name their field")
    void isolation() {
        assertEquals(200, split(10, "1.0.0", "tenant").statusCode());
        String subscriber = accessToken(api.login("owner@caller0.test", "caller-password"));
        String path = "/api/v1/models/" + MODEL + "/aliases/latest/split";
        assertProblem(api.get(path, subscriber), 404);
        assertProblem(api.send(HttpMethod.PUT, path, subscriber, new JsonObject().put("version", "1.0.0").put("percent", 50)), 404);
        assertProblem(api.post(path + "/promote", subscriber, null), 404);
        assertProblem(api.post(path + "/rollback", subscriber, null), 404);
        assertProblem(api.get("/api/v1/models/" + MODEL + "/gates", subscriber), 404);
        JsonObject view = api.get(path, publisher).bodyAsJsonObject();
        assertEquals(10, view.getJsonArray("versions").getJsonObject(1).getInteger("percent"), "unchanged: " + view.encode());

        JsonObject bad = assertProblem(api.send(HttpMethod.PUT, path, publisher, new JsonObject().put("version", "1.0.0").put("percent", 100)), 400);
        assertEquals("/percent", bad.getJsonArray("errors").getJsonObject(0).getString("pointer"));
        JsonObject sticky = assertProblem(api.send(HttpMethod.PUT, path, publisher, new JsonObject().put("version", "1.0.0")
                .put("percent", 10).put("stickiness", "moon")), 400);
        assertEquals("/stickiness", sticky.getJsonArray("errors").getJsonObject(0).getString("pointer"));
        assertProblem(api.send(HttpMethod.PUT, path, publisher, new JsonObject().put("version", "1.1.0").put("percent", 10)), 409);
        JsonObject label = assertProblem(api.post("/v2/models/" + MODEL + "/infer", keys.get(0), CanaryFixtures.request(rows.get(0))
                .put("parameters", new JsonObject().put("label", new JsonArray().add("a").add("b")))), 400);
        assertNotNull(label.getString("detail"));
        assertEquals(204, api.post(path + "/rollback", publisher, null).statusCode());
    }
}
