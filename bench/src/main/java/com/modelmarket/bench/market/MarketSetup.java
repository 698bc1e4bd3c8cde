package com.modelmarket.bench.market;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

/**
 * Sets a fresh server up through its public API, as a publisher and a customer would: the
 * publisher signs up, uploads each model, creates and publishes version 1.0.0 and a
 * pay-as-you-go plan with a rate limit no bench reaches; the consumer signs up, subscribes to
 * each model and creates an API key. Inference then goes through authentication, entitlement,
 * the rate limiter and metering like any paying customer's.
 */
final class MarketSetup {

    /** The largest rate limit a plan may have (requests per minute). */
    static final int RATE_LIMIT_PER_MINUTE = 1_000_000;
    private static final String PASSWORD = "bench-password-1234";

    private MarketSetup() {
    }

    /** Publishes {@code models} and returns the consumer's API key. */
    static String prepare(Http http, List<BenchModel> models) throws IOException {
        String publisher = signUp(http, "Bench Publisher", "publisher@bench.invalid");
        for (BenchModel m : models) {
            publish(http, publisher, m);
        }
        String consumer = signUp(http, "Bench Consumer", "consumer@bench.invalid");
        for (BenchModel m : models) {
            JsonArray plans = http.get("/api/v1/models/" + m.slug() + "/plans", consumer)
                    .expect(200, "plans of " + m.slug()).json().getJsonArray("items");
            http.postJson("/api/v1/subscriptions", consumer, new JsonObject().put("model", m.slug())
                    .put("planId", plans.getJsonObject(0).getString("id"))).expect(201, "subscribe to " + m.slug());
        }
        return http.postJson("/api/v1/api-keys", consumer, new JsonObject().put("name", "bench"))
                .expect(201, "API key").json().getString("secret");
    }

    private static String signUp(Http http, String organisation, String email) {
        JsonObject reply = http.postJson("/api/v1/auth/signup", null, new JsonObject().put("organisation", organisation)
                .put("email", email).put("password", PASSWORD)).expect(201, "sign-up of " + email).json();
        return reply.getJsonObject("session").getString("accessToken");
    }

    private static void publish(Http http, String token, BenchModel m) throws IOException {
        http.postJson("/api/v1/models", token, new JsonObject().put("slug", m.slug()).put("name", m.name())
                .put("task", "heavy".equals(m.kind()) ? "image-classification" : "tabular-classification")
                .put("kind", "model").put("visibility", "public").put("framework", "pytorch")
                .put("summary", "benchmark model (" + m.kind() + ")")).expect(201, "model " + m.slug());
        String sha = http.call(HttpMethod.POST, "/api/v1/uploads", token, "application/octet-stream",
                Buffer.buffer(Files.readAllBytes(m.artifact()))).expect(201, "upload of " + m.artifact())
                .json().getString("sha256");
        JsonObject manifest = m.manifest().copy();
        manifest.remove("expected_outputs");
        manifest.remove("evaluation");
        http.postJson("/api/v1/models/" + m.slug() + "/versions", token, new JsonObject().put("version", "1.0.0")
                .put("artifactSha256", sha).put("manifest", manifest)).expect(201, "version of " + m.slug());
        http.postJson("/api/v1/models/" + m.slug() + "/versions/1.0.0/publish", token, null)
                .expect(200, "publishing " + m.slug());
        http.postJson("/api/v1/models/" + m.slug() + "/plans", token, new JsonObject().put("name", "Bench pay-as-you-go")
                .put("type", "pay_as_you_go").put("currency", "EUR").put("pricePer1000Minor", 1)
                .put("rateLimitPerMinute", RATE_LIMIT_PER_MINUTE)).expect(201, "plan of " + m.slug());
    }
}
