package com.modelmarket.marketplace.plans;

import com.modelmarket.billing.PlanType;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.Locale;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * A price plan of a model. Money is integer minor units of {@code currency}:
 * free (monthly allowance, hard cap), pay-as-you-go (price per 1,000 calls) or monthly (flat fee,
 * included calls, overage per 1,000); each with a requests-per-minute limit.
 */
public record Plan(UUID id, UUID modelId, UUID tenantId, String name, PlanType type, String currency,
                   long monthlyFeeMinor, long includedCalls, long pricePer1000Minor, int rateLimitPerMinute,
                   OffsetDateTime createdAt, OffsetDateTime archivedAt) {

    /** The plan types as the API and the database name them. */
    public static final List<String> TYPES = Arrays.stream(PlanType.values()).map(Plan::wire).toList();

    /** {@code free}, {@code pay_as_you_go}, {@code monthly}. */
    public static String wire(PlanType type) {
        return type.name().toLowerCase(Locale.ROOT);
    }

    /** The type a wire name stands for, or empty if it names none. */
    public static java.util.Optional<PlanType> parseType(String wire) {
        return Arrays.stream(PlanType.values()).filter(t -> wire(t).equals(wire)).findFirst();
    }

    /** A plan type read back from the database, where only known names are stored. */
    public static PlanType storedType(String wire) {
        return parseType(wire).orElseThrow(() -> new IllegalStateException("unknown plan type " + wire));
    }

    public boolean free() {
        return type == PlanType.FREE;
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("modelId", modelId.toString())
                .put("name", name)
                .put("type", wire(type))
                .put("currency", currency)
                .put("monthlyFeeMinor", monthlyFeeMinor)
                .put("includedCalls", includedCalls)
                .put("pricePer1000Minor", pricePer1000Minor)
                .put("rateLimitPerMinute", rateLimitPerMinute)
                .put("archived", archivedAt != null);
    }
}
