package com.modelmarket.marketplace.http;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Values at the edges of their types: instants at the ends of {@code Instant}, integers beyond a {@code long}. */
@StartedPlatform
class EdgeValuesTest {

    /** What {@code Instant.parse} accepts but no date, offset or PostgreSQL timestamp can hold, and other edges. */
    static final List<String> EDGE_INSTANTS = List.of("+1000000000-01-01T00:00:00Z", "-1000000000-01-01T00:00:00Z",
            "+1000000000-12-31T23:59:59.999999999Z", "+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "1969-12-31T23:59:59Z");

    private static Platform platform;
    private static Api api;
    private static String owner;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
        owner = accessToken(api.signUp("Edge Org", "owner@edge.test", "edge-password-1"));
        createModel(api, owner, "edge-model", "private", new JsonObject());
    }

    @Test
    @DisplayName("instants at the ends of Instant's range answer 400 for expiresAt and the earnings period, never 500")
    void extremeInstants() {
        for (String instant : EDGE_INSTANTS) {
            JsonObject problem = assertProblem(api.post("/api/v1/api-keys", owner,
                    new JsonObject().put("name", "n").put("expiresAt", instant)), 400);
            assertEquals("/expiresAt", problem.getJsonArray("errors").getJsonObject(0).getString("pointer"), instant);
            assertProblem(api.get("/api/v1/earnings?period=" + URLEncoder.encode(instant, StandardCharsets.UTF_8), owner), 400);
        }
        for (String day : List.of("+999999999-12-31", "-999999999-01-01", "+10000-01-01", "0000-01-01")) {
            assertProblem(api.get("/api/v1/usage/summary?from=" + URLEncoder.encode(day, StandardCharsets.UTF_8), owner), 400);
            assertProblem(api.get("/api/v1/usage/summary?to=" + URLEncoder.encode(day, StandardCharsets.UTF_8), owner), 400);
        }
        // the last instant of the range is still a valid expiry
        HttpResponse<Buffer> latest = api.post("/api/v1/api-keys", owner,
                new JsonObject().put("name", "n").put("expiresAt", "9999-12-31T23:59:59Z"));
        assertEquals(201, latest.statusCode(), latest.bodyAsString());
    }

    @Test
    @DisplayName("integers beyond their documented range (2^64 + 5, 2^64 + 7, 2^64 + 100, 1e19, -2^64) answer 400 naming the field; nothing wraps")
    void integersNeverWrap() {
        for (String field : List.of("rateLimitPerMinute", "includedCalls", "monthlyFeeMinor", "pricePer1000Minor")) {
            for (String number : List.of("18446744073709551621", "18446744073709551623", "18446744073709551716",
                    "1e19", "-18446744073709551616", "9223372036854775808", "1.5", "1e400")) {
                String body = "{\"name\":\"P\",\"type\":\"monthly\",\"currency\":\"EUR\",\"monthlyFeeMinor\":100,"
                        + "\"includedCalls\":10,\"pricePer1000Minor\":5,\"rateLimitPerMinute\":5,\"" + field + "\":" + number + "}";
                // a later duplicate key wins in the parser, so the edge value replaces the valid one
                HttpResponse<Buffer> r = Api.await(api.request(HttpMethod.POST, "/api/v1/models/edge-model/plans", owner)
                        .putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body)));
                JsonObject problem = assertProblem(r, 400);
                assertEquals("/" + field, problem.getJsonArray("errors").getJsonObject(0).getString("pointer"),
                        field + "=" + number + ": " + problem.encode());
            }
        }
        JsonObject plans = api.get("/api/v1/models/edge-model/plans", owner).bodyAsJsonObject();
        assertTrue(plans.getJsonArray("items").isEmpty(), "no plan was stored: " + plans.encode());
        // the documented bounds themselves are accepted
        HttpResponse<Buffer> ok = api.post("/api/v1/models/edge-model/plans", owner, new JsonObject().put("name", "Max")
                .put("type", "monthly").put("currency", "EUR").put("monthlyFeeMinor", Long.MAX_VALUE / 1000)
                .put("includedCalls", 0).put("rateLimitPerMinute", 1_000_000));
        assertEquals(201, ok.statusCode(), ok.bodyAsString());
        assertEquals(Long.MAX_VALUE / 1000, ok.bodyAsJsonObject().getLong("monthlyFeeMinor"));
    }
}
