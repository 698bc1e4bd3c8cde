package com.modelmarket.billing.metering;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.UUID;

/** The journal's line format for a {@link UsageRecord}: one JSON object, version field {@code v} = 1. */
final class UsageRecordJson {

    static final int VERSION = 1;

    private UsageRecordJson() {
    }

    static String encode(UsageRecord record) {
        return new JsonObject()
                .put("v", VERSION)
                .put("requestId", record.requestId())
                .put("tenantId", record.tenantId().toString())
                .put("apiKeyId", text(record.apiKeyId()))
                .put("subscriptionId", text(record.subscriptionId()))
                .put("modelId", record.modelId().toString())
                .put("modelVersionId", record.modelVersionId().toString())
                .put("items", record.items())
                .put("computeNanos", record.computeNanos())
                .put("outcome", record.outcome().name())
                .put("occurredAt", record.occurredAt().toString())
                .encode();
    }

    /** @throws IllegalArgumentException (including JSON decode errors) when the line is not a valid record */
    static UsageRecord decode(String line) {
        JsonObject json = new JsonObject(line);
        Integer version = json.getInteger("v");
        if (version == null || version != VERSION) {
            throw new IllegalArgumentException("unsupported journal line version " + version);
        }
        return new UsageRecord(
                json.getString("requestId"),
                UUID.fromString(json.getString("tenantId")),
                uuid(json.getString("apiKeyId")),
                uuid(json.getString("subscriptionId")),
                UUID.fromString(json.getString("modelId")),
                UUID.fromString(json.getString("modelVersionId")),
                json.getInteger("items"),
                json.getLong("computeNanos"),
                UsageOutcome.valueOf(json.getString("outcome")),
                Instant.parse(json.getString("occurredAt")));
    }

    private static String text(UUID id) {
        return id == null ? null : id.toString();
    }

    private static UUID uuid(String text) {
        return text == null ? null : UUID.fromString(text);
    }
}
