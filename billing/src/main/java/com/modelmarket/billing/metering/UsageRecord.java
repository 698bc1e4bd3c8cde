package com.modelmarket.billing.metering;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * One metered request.
 *
 * @param requestId the request's id (a UUID string is fine; at most 128 characters, no control
 *     characters), logged with the commit that counted it. Not what makes counting idempotent: that is
 *     the {@link UsageCommit} id, so a caller that sends the same id twice is counted twice
 * @param tenantId the calling (consumer) tenant
 * @param apiKeyId the API key used; {@code null} when the call was made with a user's token
 * @param subscriptionId the subscription charged; {@code null} for calls to the tenant's own models
 * @param items inputs in the request (images in a batch request, for example)
 * @param computeNanos model compute time attributed to the request
 */
public record UsageRecord(
        String requestId,
        UUID tenantId,
        UUID apiKeyId,
        UUID subscriptionId,
        UUID modelId,
        UUID modelVersionId,
        int items,
        long computeNanos,
        UsageOutcome outcome,
        Instant occurredAt) {

    public static final int MAX_REQUEST_ID_LENGTH = 128;

    public UsageRecord {
        Objects.requireNonNull(requestId, "requestId");
        if (requestId.isBlank() || requestId.length() > MAX_REQUEST_ID_LENGTH) {
            throw new IllegalArgumentException("requestId must be 1.." + MAX_REQUEST_ID_LENGTH + " characters");
        }
        if (requestId.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("requestId must not contain control characters");
        }
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(modelVersionId, "modelVersionId");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(occurredAt, "occurredAt");
        if (items < 0 || computeNanos < 0) {
            throw new IllegalArgumentException("items and computeNanos must not be negative");
        }
    }
}
