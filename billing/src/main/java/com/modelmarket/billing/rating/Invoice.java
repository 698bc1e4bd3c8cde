package com.modelmarket.billing.rating;

import com.modelmarket.billing.Money;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * A draft invoice: one tenant, one period, one currency. The total is the exact sum of the line
 * amounts; the constructor refuses anything else.
 */
public record Invoice(UUID tenantId, BillingPeriod period, String currency, List<InvoiceLine> lines, Money total) {

    public Invoice {
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(period, "period");
        Objects.requireNonNull(currency, "currency");
        lines = List.copyOf(lines);
        Money sum = Money.zero(currency);
        for (InvoiceLine line : lines) {
            sum = sum.plus(line.amount());
        }
        if (!sum.equals(total)) {
            throw new IllegalArgumentException("invoice total " + total + " is not the sum of its lines " + sum);
        }
    }

    /** An invoice whose total is the sum of {@code lines}. */
    public static Invoice of(UUID tenantId, BillingPeriod period, String currency, List<InvoiceLine> lines) {
        Money sum = Money.zero(currency);
        for (InvoiceLine line : lines) {
            sum = sum.plus(line.amount());
        }
        return new Invoice(tenantId, period, currency, lines, sum);
    }
}
