package com.modelmarket.billing.rating;

import com.modelmarket.billing.Money;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Splits invoiced money between publishers and the platform.
 *
 * <p>Per publisher, currency and model: {@code gross} is the sum of the amounts of that model's
 * invoice lines; {@code fee = round(gross × basisPoints / 10000)} with the rule of
 * {@link Rounding} (halves up), computed once per model; {@code payout = gross − fee}. A
 * publisher's gross, fee and payout are the exact sums of its models'. Hence, to the minor unit:
 * fee + payout = gross for every model and publisher, and the publishers' gross in a currency
 * equals the total of the invoices in that currency.
 */
public final class RevenueShare {

    private static final int BASIS_POINTS = 10_000;

    private RevenueShare() {
    }

    /**
     * @param invoices invoices of one period (any tenants, any currencies)
     * @param platformFeeBasisPoints the platform's share in hundredths of a percent, 0 to 10000 (1500 = 15 %)
     * @return one entry per publisher and currency, ordered by publisher id then currency; models ordered by id
     */
    public static List<PublisherRevenue> split(Collection<Invoice> invoices, int platformFeeBasisPoints) {
        if (platformFeeBasisPoints < 0 || platformFeeBasisPoints > BASIS_POINTS) {
            throw new IllegalArgumentException("platform fee must be 0..10000 basis points, got " + platformFeeBasisPoints);
        }
        BillingPeriod period = null;
        // publisher -> currency -> model -> gross
        Map<UUID, Map<String, Map<UUID, Money>>> gross = new TreeMap<>();
        for (Invoice invoice : invoices) {
            if (period == null) {
                period = invoice.period();
            } else if (!period.equals(invoice.period())) {
                throw new IllegalArgumentException("invoices of different periods: " + period + " and " + invoice.period());
            }
            for (InvoiceLine line : invoice.lines()) {
                gross.computeIfAbsent(line.publisherTenantId(), p -> new TreeMap<>())
                        .computeIfAbsent(line.currency(), c -> new TreeMap<>())
                        .merge(line.modelId(), line.amount(), Money::plus);
            }
        }
        List<PublisherRevenue> result = new ArrayList<>();
        for (var byPublisher : gross.entrySet()) {
            for (var byCurrency : byPublisher.getValue().entrySet()) {
                result.add(publisherRevenue(byPublisher.getKey(), Objects.requireNonNull(period), byCurrency.getKey(),
                        byCurrency.getValue(), platformFeeBasisPoints));
            }
        }
        return result;
    }

    /** The platform fee on {@code gross}: {@code round(gross × basisPoints / 10000)}, halves up. */
    public static Money fee(Money gross, int platformFeeBasisPoints) {
        return new Money(Rounding.multiplyDivideHalfUp(gross.minorUnits(), platformFeeBasisPoints, BASIS_POINTS),
                gross.currency());
    }

    private static PublisherRevenue publisherRevenue(UUID publisher, BillingPeriod period, String currency,
            Map<UUID, Money> grossByModel, int basisPoints) {
        Money gross = Money.zero(currency);
        Money fee = Money.zero(currency);
        List<ModelRevenue> models = new ArrayList<>();
        for (Map.Entry<UUID, Money> model : grossByModel.entrySet()) {
            Money modelGross = model.getValue();
            Money modelFee = fee(modelGross, basisPoints);
            models.add(new ModelRevenue(model.getKey(), modelGross, modelFee, modelGross.minus(modelFee)));
            gross = gross.plus(modelGross);
            fee = fee.plus(modelFee);
        }
        return new PublisherRevenue(publisher, period, currency, models, gross, fee, gross.minus(fee));
    }
}
