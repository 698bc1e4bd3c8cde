package com.modelmarket.billing.rating;

import com.modelmarket.billing.Money;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * A publisher's revenue in one period and one currency: per model, and the exact sums over its
 * models. {@code fee + payout == gross}.
 */
public record PublisherRevenue(
        UUID publisherTenantId,
        BillingPeriod period,
        String currency,
        List<ModelRevenue> models,
        Money gross,
        Money fee,
        Money payout) {

    public PublisherRevenue {
        Objects.requireNonNull(publisherTenantId, "publisherTenantId");
        Objects.requireNonNull(period, "period");
        models = List.copyOf(models);
        Money sumGross = Money.zero(currency);
        Money sumFee = Money.zero(currency);
        for (ModelRevenue model : models) {
            sumGross = sumGross.plus(model.gross());
            sumFee = sumFee.plus(model.fee());
        }
        if (!sumGross.equals(gross) || !sumFee.equals(fee) || !fee.plus(payout).equals(gross)) {
            throw new IllegalArgumentException("publisher totals do not reconcile with its models");
        }
    }
}
