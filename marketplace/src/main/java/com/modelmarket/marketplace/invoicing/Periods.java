package com.modelmarket.marketplace.invoicing;

import com.modelmarket.billing.rating.BillingPeriod;
import java.time.Duration;
import java.time.Instant;

/**
 * Which billing period an instant falls in: calendar months in UTC, or — for tests and short
 * demo cycles — periods of {@code days} "days" of {@code daySeconds} seconds counted from the epoch.
 */
public record Periods(long daySeconds, int days) {

    public static Periods calendarMonths() {
        return new Periods(0, 0);
    }

    public BillingPeriod periodOf(Instant instant) {
        if (daySeconds <= 0) {
            return BillingPeriod.monthOf(instant);
        }
        long length = daySeconds * days;
        long start = Math.floorDiv(instant.getEpochSecond(), length) * length;
        return BillingPeriod.ofDays(Instant.ofEpochSecond(start), Duration.ofSeconds(daySeconds), days);
    }

    /** The period that starts at {@code start}, or an error if no period starts there. */
    public BillingPeriod startingAt(Instant start) {
        BillingPeriod p = periodOf(start);
        if (!p.start().equals(start)) {
            throw new IllegalArgumentException("no billing period starts at " + start);
        }
        return p;
    }
}
