package com.modelmarket.marketplace.reliability;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.freePlan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.modelmarket.marketplace.support.Clocks;
import com.modelmarket.billing.rating.BillingPeriod;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Tenant isolation as a matrix: every route of the route table that takes an id, with every method
 * the table allows, called by tenant B about tenant A's resources, once with B's access token and
 * once with B's API key. B never sees or changes A's data: a management route answers 404 to B's
 * access token and 401 to an API key (it accepts access tokens only); an inference route answers
 * B's key 404 for A's private model and, for A's public model, the documented 403 on inference
 * (public metadata stays readable), and 401 to an access token. No answer carries any of A's
 * private ids or names, and afterwards A's resources read exactly as before.
 */
@StartedPlatform({
        "billing.period-day-seconds=1",
        "metering.rollup-seconds=1",
        "billing.period-days=2",
        "billing.close-grace-seconds=100000"})
class IsolationMatrixTest {

    private static final String PRIVATE = "matrix-private";
    private static final String PUBLIC = "matrix-public";

    private static Platform platform;
    private static Api api;

    @BeforeAll
    static void start(Platform started, Api client) {
        // Two-second billing periods, so that A has a final invoice to attack.
        platform = started;
        api = client;
    }

    private enum Credential { ACCESS_TOKEN, API_KEY }

    /** One attack: B calls {@code method path} with one kind of credential and expects {@code status}. */
    private record Case(String route, HttpMethod method, String path, JsonObject body, Credential credential, int status) {
    }

    /** Tenant A's resources, and the strings that must never reach B. */
    private record TenantA(String owner, String key, String keyId, String ownerId, String memberId, String privateId,
                           String publicId, String privatePlanId, String publicPlanId, String subscriptionId,
                           String invoiceId, List<String> secrets) {
    }

    @Test
    @DisplayName("tenant B, with its access token or its API key, never sees or changes tenant A's resources on any route")
    void isolationMatrix() throws Exception {
        TenantA a = tenantA();
        JsonObject signUpB = api.signUp("Matrix B", "owner@matrix-b.test", "matrix-b-password");
        String jwtB = accessToken(signUpB);
        String keyB = api.post("/api/v1/api-keys", jwtB, new JsonObject().put("name", "b")).bodyAsJsonObject().getString("secret");
        String shaB = Publishing.upload(api, jwtB, Publishing.fixtureBytes("digits_mlp.pt"));
        Map<String, String> before = snapshot(a);

        List<Case> cases = cases(a, shaB);
        Map<String, Integer> byStatus = new TreeMap<>();
        Set<String> routes = new TreeSet<>();
        for (Case c : cases) {
            String credential = c.credential() == Credential.ACCESS_TOKEN ? jwtB : keyB;
            HttpRequest<Buffer> request = api.request(c.method(), c.path(), credential);
            HttpResponse<Buffer> r = Api.await(c.body() == null ? request.send() : request.sendJsonObject(c.body()));
            String what = c.credential() + " " + c.method() + " " + c.path();
            if (c.status() >= 400) {
                assertEquals(c.status(), r.statusCode(), () -> what + ": " + r.bodyAsString());
                assertProblem(r, c.status());
            } else {
                assertEquals(c.status(), r.statusCode(), () -> what + ": " + r.bodyAsString());
            }
            String body = r.bodyAsString() == null ? "" : r.bodyAsString();
            for (String secret : a.secrets()) {
                // A problem's "instance" echoes the path B sent; anything else of A's is a leak.
                if (!c.path().contains(secret)) {
                    assertFalse(body.contains(secret), () -> what + " leaked " + secret + ": " + body);
                }
            }
            byStatus.merge(c.credential() + " " + c.status(), 1, Integer::sum);
            routes.add(c.method() + " " + c.route());
        }

        // Lists (no id in the path) show B only its own tenant.
        int lists = 0;
        for (String list : List.of("/api/v1/members", "/api/v1/api-keys", "/api/v1/subscriptions", "/api/v1/audit-log",
                "/api/v1/usage/summary", "/api/v1/usage/summary.csv", "/api/v1/quotas", "/api/v1/invoices",
                "/api/v1/earnings", "/api/v1/tenant", "/api/v1/catalog?q=matrix")) {
            HttpResponse<Buffer> r = api.get(list, jwtB);
            assertEquals(200, r.statusCode(), list);
            for (String secret : a.secrets()) {
                assertFalse(r.bodyAsString().contains(secret), () -> list + " leaked " + secret + ": " + r.bodyAsString());
            }
            lists++;
        }

        assertEquals(before, snapshot(a), "tenant A's resources changed");
        assertEquals(200, api.post("/v2/models/" + PRIVATE + "/infer", a.key(), digits()).statusCode(), "A's key still works");
        System.out.println("IsolationMatrixTest: " + cases.size() + " cross-tenant cases over " + routes.size()
                + " route/method pairs (" + cases.size() / 2 + " route/method/resource combinations x 2 credential kinds) + "
                + lists + " list reads; answers " + byStatus);
    }

    private static List<Case> cases(TenantA a, String shaB) {
        List<Case> cases = new ArrayList<>();
        JsonObject freePlan = new JsonObject().put("name", "Stolen").put("type", "free").put("currency", "EUR")
                .put("includedCalls", 10).put("rateLimitPerMinute", 10);
        for (String id : List.of(a.memberId(), a.ownerId())) {
            management(cases, "members/{id}", HttpMethod.GET, "/api/v1/members/" + id, null, 404);
            management(cases, "members/{id}", HttpMethod.PATCH, "/api/v1/members/" + id, new JsonObject().put("role", "owner"), 404);
            management(cases, "members/{id}", HttpMethod.DELETE, "/api/v1/members/" + id, null, 404);
        }
        management(cases, "api-keys/{id}", HttpMethod.GET, "/api/v1/api-keys/" + a.keyId(), null, 404);
        management(cases, "api-keys/{id}", HttpMethod.DELETE, "/api/v1/api-keys/" + a.keyId(), null, 404);
        // Models by slug and by id; the public one is readable by anyone, never writable by B.
        for (String[] model : new String[][] {{PRIVATE, a.privateId(), a.privatePlanId()}, {PUBLIC, a.publicId(), a.publicPlanId()}}) {
            boolean visible = model[0].equals(PUBLIC);
            for (String ref : List.of(model[0], model[1])) {
                String m = "/api/v1/models/" + ref;
                management(cases, "models/{model}", HttpMethod.GET, m, null, visible ? 200 : 404);
                management(cases, "models/{model}", HttpMethod.PATCH, m, new JsonObject().put("name", "hijacked"), 404);
                management(cases, "models/{model}/versions", HttpMethod.POST, m + "/versions", new JsonObject()
                        .put("version", "9.9.9").put("artifactSha256", shaB).put("manifest", Publishing.manifest("digits_mlp")), 404);
                for (String action : List.of("publish", "deprecate", "retire")) {
                    management(cases, "models/{model}/versions/{version}/" + action, HttpMethod.POST,
                            m + "/versions/1.0.0/" + action, null, 404);
                }
                management(cases, "models/{model}/aliases/{alias}", HttpMethod.PUT, m + "/aliases/stable",
                        new JsonObject().put("version", "1.0.0"), 404);
                management(cases, "models/{model}/aliases/{alias}", HttpMethod.DELETE, m + "/aliases/stable", null, 404);
                management(cases, "models/{model}/plans", HttpMethod.GET, m + "/plans", null, visible ? 200 : 404);
                management(cases, "models/{model}/plans", HttpMethod.POST, m + "/plans", freePlan, 404);
                management(cases, "models/{model}/plans/{plan}", HttpMethod.DELETE, m + "/plans/" + model[2], null, 404);
            }
        }
        management(cases, "subscriptions/{id}", HttpMethod.GET, "/api/v1/subscriptions/" + a.subscriptionId(), null, 404);
        management(cases, "subscriptions/{id}", HttpMethod.PATCH, "/api/v1/subscriptions/" + a.subscriptionId(),
                new JsonObject().put("planId", a.publicPlanId()), 404);
        management(cases, "subscriptions/{id}", HttpMethod.DELETE, "/api/v1/subscriptions/" + a.subscriptionId(), null, 404);
        management(cases, "invoices/{id}", HttpMethod.GET, "/api/v1/invoices/" + a.invoiceId(), null, 404);
        management(cases, "invoices/{id}.csv", HttpMethod.GET, "/api/v1/invoices/" + a.invoiceId() + ".csv", null, 404);
        // Open Inference Protocol: without a version, by number and by alias.
        for (String model : List.of(PRIVATE, PUBLIC)) {
            boolean visible = model.equals(PUBLIC);
            for (String base : List.of("/v2/models/" + model, "/v2/models/" + model + "/versions/1.0.0",
                    "/v2/models/" + model + "/versions/stable")) {
                String route = base.contains("/versions/") ? "v2/models/{name}/versions/{v}" : "v2/models/{name}";
                inference(cases, route, HttpMethod.GET, base, null, visible ? 200 : 404);
                inference(cases, route + "/ready", HttpMethod.GET, base + "/ready", null, visible ? 200 : 404);
                inference(cases, route + "/infer", HttpMethod.POST, base + "/infer", digits(), visible ? 403 : 404);
            }
        }
        return cases;
    }

    /** A management route accepts access tokens only: an API key is no credential there (401). */
    private static void management(List<Case> cases, String route, HttpMethod method, String path, JsonObject body, int forToken) {
        cases.add(new Case(route, method, path, body, Credential.ACCESS_TOKEN, forToken));
        cases.add(new Case(route, method, path, body, Credential.API_KEY, 401));
    }

    /** An inference route accepts API keys only: an access token is no credential there (401). */
    private static void inference(List<Case> cases, String route, HttpMethod method, String path, JsonObject body, int forKey) {
        cases.add(new Case(route, method, path, body, Credential.API_KEY, forKey));
        cases.add(new Case(route, method, path, body, Credential.ACCESS_TOKEN, 401));
    }

    private static TenantA tenantA() {
        JsonObject signUp = api.signUp("Matrix A", "owner@matrix-a.test", "matrix-a-password");
        String owner = accessToken(signUp);
        String tenantId = signUp.getJsonObject("tenant").getString("id");
        String ownerId = api.get("/api/v1/me", owner).bodyAsJsonObject().getString("userId");
        String memberId = api.post("/api/v1/members", owner, new JsonObject().put("email", "hidden-member@matrix-a.test")
                .put("password", "member-password").put("role", "admin")).bodyAsJsonObject().getString("id");
        JsonObject key = api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "a-secret-key-name")).bodyAsJsonObject();
        String privateId = createModel(api, owner, PRIVATE, "private", new JsonObject()).getString("id");
        String publicId = createModel(api, owner, PUBLIC, "public", new JsonObject()).getString("id");
        for (String model : List.of(PRIVATE, PUBLIC)) {
            publishVersion(api, owner, model, "1.0.0", "digits_mlp");
            assertEquals(200, api.send(HttpMethod.PUT, "/api/v1/models/" + model + "/aliases/stable", owner,
                    new JsonObject().put("version", "1.0.0")).statusCode());
        }
        String privatePlanId = freePlan(api, owner, PRIVATE).getString("id");
        String publicPlanId = freePlan(api, owner, PUBLIC).getString("id");
        HttpResponse<Buffer> subscribed = api.post("/api/v1/subscriptions", owner,
                new JsonObject().put("model", PUBLIC).put("planId", publicPlanId));
        assertEquals(201, subscribed.statusCode(), subscribed.bodyAsString());
        String subscriptionId = subscribed.bodyAsJsonObject().getString("id");
        assertEquals(200, api.post("/v2/models/" + PUBLIC + "/infer", key.getString("secret"), digits()).statusCode());
        String invoiceId = finalInvoice(owner);
        List<String> secrets = List.of(tenantId, ownerId, memberId, "hidden-member@matrix-a.test", "owner@matrix-a.test",
                key.getString("id"), key.getString("secret"), "a-secret-key-name", PRIVATE, privateId, "Model " + PRIVATE,
                privatePlanId, subscriptionId, invoiceId);
        return new TenantA(owner, key.getString("secret"), key.getString("id"), ownerId, memberId, privateId, publicId,
                privatePlanId, publicPlanId, subscriptionId, invoiceId, secrets);
    }

    /** Waits for the running (two-second) billing period to end, closes it, and returns A's invoice for it. */
    private static String finalInvoice(String owner) {
        var invoicing = platform.services().invoicing();
        BillingPeriod period = invoicing.periods().periodOf(Instant.now());
        Clocks.awaitPassed(period.end().plusMillis(100));
        Api.await(invoicing.closePeriod(period));
        return api.get("/api/v1/invoices", owner).bodyAsJsonObject().getJsonArray("items").stream()
                .map(JsonObject.class::cast).filter(i -> !"draft".equals(i.getString("status")))
                .findFirst().orElseThrow(() -> new AssertionError("tenant A has no final invoice")).getString("id");
    }

    /** What A sees of each resource B attacked (A's key is not used between two snapshots). */
    private static Map<String, String> snapshot(TenantA a) {
        Map<String, String> views = new LinkedHashMap<>();
        for (String path : List.of("/api/v1/members/" + a.memberId(), "/api/v1/members/" + a.ownerId(),
                "/api/v1/api-keys/" + a.keyId(), "/api/v1/models/" + PRIVATE, "/api/v1/models/" + PUBLIC,
                "/api/v1/models/" + PRIVATE + "/plans", "/api/v1/models/" + PUBLIC + "/plans",
                "/api/v1/subscriptions/" + a.subscriptionId(), "/api/v1/invoices/" + a.invoiceId())) {
            HttpResponse<Buffer> r = api.get(path, a.owner());
            assertEquals(200, r.statusCode(), () -> path + ": " + r.bodyAsString());
            views.put(path, r.bodyAsString());
        }
        return views;
    }

    private static JsonObject digits() {
        return Publishing.manifest("digits_mlp").getJsonObject("example");
    }
}
