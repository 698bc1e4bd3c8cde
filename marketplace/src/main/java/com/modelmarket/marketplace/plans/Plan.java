package com.modelmarket.marketplace.plans;

import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * A price plan of a model. Money is integer minor units of {@code currency}:
 * free (monthly allowance, hard cap), pay-as-you-go (price per 1,000 calls) or monthly (flat fee,
 * included calls, overage per 1,000); each with a requests-per-minute limit.
 */
public record Plan(UUID id, UUID modelId, UUID tenantId, String name, String type, String currency,
                   long monthlyFeeMinor, long includedCalls, long pricePer1000Minor, int rateLimitPerMinute,
                   OffsetDateTime createdAt, OffsetDateTime archivedAt) {

    public static final List<String> TYPES = List.of("free", "pay_as_you_go", "monthly");

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("modelId", modelId.toString())
                .put("name", name)
                .put("type", type)
                .put("currency", currency)
                .put("monthlyFeeMinor", monthlyFeeMinor)
                .put("includedCalls", includedCalls)
                .put("pricePer1000Minor", pricePer1000Minor)
                .put("rateLimitPerMinute", rateLimitPerMinute)
                .put("archived", archivedAt != null);
    }
}
