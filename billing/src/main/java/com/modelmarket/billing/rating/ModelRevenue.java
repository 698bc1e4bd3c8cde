package com.modelmarket.billing.rating;

import com.modelmarket.billing.Money;
import java.util.Objects;
import java.util.UUID;

/**
 * A model's revenue in one period and currency: {@code gross} billed to subscribers, the
 * platform's {@code fee}, the publisher's {@code payout}; {@code fee + payout == gross} exactly.
 */
public record ModelRevenue(UUID modelId, Money gross, Money fee, Money payout) {

    public ModelRevenue {
        Objects.requireNonNull(modelId, "modelId");
        if (!fee.plus(payout).equals(gross)) {
            throw new IllegalArgumentException("fee " + fee + " + payout " + payout + " is not gross " + gross);
        }
    }
}
