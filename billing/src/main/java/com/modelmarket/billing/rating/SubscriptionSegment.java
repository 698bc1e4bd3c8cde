package com.modelmarket.billing.rating;

import com.modelmarket.billing.PricePlan;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * A subscription's time on one plan: {@code [activeFrom, activeTo)}. Subscribing starts a
 * segment, a plan change ends one segment and starts the next at the same instant, cancelling
 * ends the last one.
 *
 * @param activeTo exclusive end; {@code null} while the subscription is still on this plan
 */
public record SubscriptionSegment(
        UUID subscriptionId,
        UUID tenantId,
        PricePlan plan,
        Instant activeFrom,
        Instant activeTo) {

    public SubscriptionSegment {
        Objects.requireNonNull(subscriptionId, "subscriptionId");
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(activeFrom, "activeFrom");
        if (activeTo != null && !activeFrom.isBefore(activeTo)) {
            throw new IllegalArgumentException("segment must end after it starts: " + activeFrom + " .. " + activeTo);
        }
    }

    /** Whether this segment and {@code other} share at least one instant. */
    public boolean overlaps(SubscriptionSegment other) {
        return (activeTo == null || other.activeFrom.isBefore(activeTo))
                && (other.activeTo == null || activeFrom.isBefore(other.activeTo));
    }
}
