package com.modelmarket.marketplace.plans;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
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

    static final String COLUMNS = "p.id, p.model_id, p.tenant_id, p.name, p.type, p.currency, p.monthly_fee_minor, "
            + "p.included_calls, p.price_per_1000_minor, p.rate_limit_per_minute, p.created_at, p.archived_at";

    static Plan from(Row r) {
        return new Plan(r.getUUID("id"), r.getUUID("model_id"), r.getUUID("tenant_id"), r.getString("name"),
                r.getString("type"), r.getString("currency"), r.getLong("monthly_fee_minor"), r.getLong("included_calls"),
                r.getLong("price_per_1000_minor"), r.getInteger("rate_limit_per_minute"),
                r.getOffsetDateTime("created_at"), r.getOffsetDateTime("archived_at"));
    }

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
