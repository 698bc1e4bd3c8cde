package com.modelmarket.marketplace.invoicing;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.plan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Usage is stored per bucket (a minute, the default here), so subscription segments begin and end
 * on bucket boundaries: a plan change or a cancellation in the middle of a minute still bills every
 * call exactly once, on the plan the rule gives (the minute of a change goes to the new plan).
 */
@StartedPlatform
class PlanChangeBillingTest {

    @Test
    @DisplayName("calls before and after a plan change and a cancellation are each billed once; segments sit on bucket boundaries")
    void planChangeBillsEveryCallOnce(Platform platform, Api api) {
        DbTarget db = platform.services().database().target();
        String publisher = accessToken(api.signUp("Change Labs", "owner@change.test", "publisher-password"));
        createModel(api, publisher, "change-model", "public", new JsonObject());
        publishVersion(api, publisher, "change-model", "1.0.0", "digits_mlp");
        String cheap = plan(api, publisher, "change-model", new JsonObject().put("name", "Cheap").put("type", "pay_as_you_go")
                .put("currency", "EUR").put("pricePer1000Minor", 1000).put("rateLimitPerMinute", 10_000)).getString("id");
        String dear = plan(api, publisher, "change-model", new JsonObject().put("name", "Dear").put("type", "pay_as_you_go")
                .put("currency", "EUR").put("pricePer1000Minor", 3000).put("rateLimitPerMinute", 10_000)).getString("id");
        String consumer = accessToken(api.signUp("Change Client", "owner@changeclient.test", "consumer-password"));
        String subscription = api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", "change-model")
                .put("planId", cheap)).bodyAsJsonObject().getString("id");
        String key = api.post("/api/v1/api-keys", consumer, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
        String tenant = api.get("/api/v1/me", consumer).bodyAsJsonObject().getString("tenantId");
        JsonObject example = Publishing.manifest("digits_mlp").getJsonObject("example");

        int ok = 0;
        for (int i = 0; i < 4; i++) {
            ok += api.post("/v2/models/change-model/infer", key, example).statusCode() == 200 ? 1 : 0;
        }
        assertEquals(200, api.patch("/api/v1/subscriptions/" + subscription, consumer, new JsonObject().put("planId", dear)).statusCode());
        for (int i = 0; i < 3; i++) {
            ok += api.post("/v2/models/change-model/infer", key, example).statusCode() == 200 ? 1 : 0;
        }
        assertEquals(7, ok);
        assertEquals(200, api.delete("/api/v1/subscriptions/" + subscription, consumer).statusCode());
        long served = ok;
        await("metered").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertEquals(served, Sql.meteredCalls(db, tenant)));

        assertEquals(0, Sql.count(db, "SELECT count(*) FROM subscription_segments WHERE subscription_id = ?::uuid "
                + "AND (extract(epoch FROM active_from)::bigint % 60 <> 0 OR extract(epoch FROM active_to)::bigint % 60 <> 0 "
                + "OR active_to IS NULL)", subscription), "segments start and end on whole minutes, and are closed");
        JsonArray invoices = api.get("/api/v1/invoices", consumer).bodyAsJsonObject().getJsonArray("items");
        long billedCalls = 0;
        for (Object o : invoices) {
            for (Object l : ((JsonObject) o).getJsonArray("lines")) {
                JsonObject line = (JsonObject) l;
                if (subscription.equals(line.getString("subscriptionId"))) {
                    billedCalls += line.getLong("calls");
                    assertTrue(line.getLong("unitPricePer1000Minor") == 1000 || line.getLong("unitPricePer1000Minor") == 3000, line.encode());
                }
            }
        }
        assertEquals(served, billedCalls, "every served call on exactly one segment's line: " + invoices.encode());
    }
}
