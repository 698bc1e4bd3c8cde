package com.modelmarket.marketplace.plans;

import com.modelmarket.billing.PlanType;
import com.modelmarket.billing.TrainingPrice;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.Locale;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * A price plan of a model. Money is integer minor units of {@code currency}:
 * free (monthly allowance, hard cap), pay-as-you-go (price per 1,000 calls) or monthly (flat fee,
 * included calls, overage per 1,000); each with a requests-per-minute limit. An algorithm's plan
 * also prices training jobs ({@link TrainingPrice}: per job, per minute, included minutes) and may bound a job's run time.
 */
public record Plan(UUID id, UUID modelId, UUID tenantId, String name, PlanType type, String currency,
                   long monthlyFeeMinor, long includedCalls, long pricePer1000Minor, int rateLimitPerMinute,
                   TrainingPrice training, OffsetDateTime createdAt, OffsetDateTime archivedAt) {

    /** The plan columns a query selects as {@code p} for {@link #from}. */
    public static final String COLUMNS = "p.id, p.model_id, p.tenant_id, p.name, p.type, p.currency, p.monthly_fee_minor, "
            + "p.included_calls, p.price_per_1000_minor, p.rate_limit_per_minute, p.training_per_job_minor, "
            + "p.training_per_minute_minor, p.training_included_minutes, p.training_max_job_seconds, p.created_at, p.archived_at";

    /** A plan from a row with {@link #COLUMNS}. */
    public static Plan from(io.vertx.sqlclient.Row r) {
        return new Plan(r.getUUID("id"), r.getUUID("model_id"), r.getUUID("tenant_id"), r.getString("name"),
                storedType(r.getString("type")), r.getString("currency"), r.getLong("monthly_fee_minor"),
                r.getLong("included_calls"), r.getLong("price_per_1000_minor"), r.getInteger("rate_limit_per_minute"),
                new TrainingPrice(r.getLong("training_per_job_minor"), r.getLong("training_per_minute_minor"),
                        r.getLong("training_included_minutes"), r.getLong("training_max_job_seconds")),
                r.getOffsetDateTime("created_at"), r.getOffsetDateTime("archived_at"));
    }

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
                .put("trainingPerJobMinor", training.perJobMinor())
                .put("trainingPerMinuteMinor", training.perMinuteMinor())
                .put("includedTrainingMinutes", training.includedMinutes())
                .put("trainingMaxJobSeconds", training.maxJobSeconds())
                .put("archived", archivedAt != null);
    }
}
