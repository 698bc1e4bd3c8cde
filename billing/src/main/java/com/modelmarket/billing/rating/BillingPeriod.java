package com.modelmarket.billing.rating;

import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * A billing period {@code [start, end)} divided into whole proration days.
 *
 * <p>In production a period is a calendar month in UTC ({@link #month(YearMonth)}) and a day is
 * 24 hours starting at 00:00 UTC, so a period has 28 to 31 days. Tests may use short periods
 * ({@link #ofDays(Instant, Duration, int)}) whose "day" is any positive duration, for example one
 * second; everything in rating is expressed in these days.
 *
 * @param start first instant of the period, inclusive
 * @param end first instant after the period, exclusive
 * @param day the proration unit; {@code end - start} is a whole number of days
 */
public record BillingPeriod(Instant start, Instant end, Duration day) {

    private static final Duration ONE_DAY = Duration.ofDays(1);

    public BillingPeriod {
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        Objects.requireNonNull(day, "day");
        if (day.isZero() || day.isNegative()) {
            throw new IllegalArgumentException("day must be positive, got " + day);
        }
        if (!start.isBefore(end)) {
            throw new IllegalArgumentException("period start " + start + " must be before its end " + end);
        }
        Duration length = Duration.between(start, end);
        try {
            if (length.toNanos() % day.toNanos() != 0) {
                throw new IllegalArgumentException("period length " + length + " is not a whole number of days of " + day);
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("period length " + length + " is too long", e);
        }
    }

    /** The calendar month in UTC: from the 1st at 00:00 UTC to the 1st of the next month. */
    public static BillingPeriod month(YearMonth month) {
        Instant start = month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        Instant end = month.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        return new BillingPeriod(start, end, ONE_DAY);
    }

    /** The calendar month in UTC that contains {@code instant}. */
    public static BillingPeriod monthOf(Instant instant) {
        return month(YearMonth.from(instant.atOffset(ZoneOffset.UTC)));
    }

    /** A period of {@code days} consecutive days of length {@code day}, for tests and short cycles. */
    public static BillingPeriod ofDays(Instant start, Duration day, int days) {
        if (days <= 0) {
            throw new IllegalArgumentException("days must be positive, got " + days);
        }
        return new BillingPeriod(start, start.plus(day.multipliedBy(days)), day);
    }

    /** D: the number of days in the period. */
    public int days() {
        return Math.toIntExact(nanosFromStart(end) / day.toNanos());
    }

    /** The period that follows this one: the next calendar month, or the next run of as many days. */
    public BillingPeriod next() {
        if (day.equals(ONE_DAY) && equals(monthOf(start))) {
            return month(YearMonth.from(end.atOffset(ZoneOffset.UTC)));
        }
        return ofDays(end, day, days());
    }

    public boolean contains(Instant instant) {
        return !instant.isBefore(start) && instant.isBefore(end);
    }

    /** Whether {@code [from, to)} shares at least one instant with the period; {@code to == null} is open-ended. */
    public boolean overlaps(Instant from, Instant to) {
        return from.isBefore(end) && (to == null || to.isAfter(start));
    }

    /**
     * d: the number of the period's days that {@code [from, to)} touches, that is, the days with
     * which it shares at least one instant. A partial day counts as a whole day; an interval that
     * ends exactly at midnight does not touch the day that starts then. {@code to == null} means
     * open-ended. Zero when the interval does not overlap the period.
     */
    public int daysTouched(Instant from, Instant to) {
        Objects.requireNonNull(from, "from");
        if (!overlaps(from, to)) {
            return 0;
        }
        Instant clippedFrom = from.isAfter(start) ? from : start;
        Instant clippedTo = to == null || to.isAfter(end) ? end : to;
        if (!clippedFrom.isBefore(clippedTo)) {
            return 0;
        }
        long dayNanos = day.toNanos();
        long firstDay = nanosFromStart(clippedFrom) / dayNanos;
        long dayAfterLast = Math.floorDiv(nanosFromStart(clippedTo) + dayNanos - 1, dayNanos);
        return Math.toIntExact(dayAfterLast - firstDay);
    }

    /** Nanoseconds from the start to an instant within the period; fits a long because the constructor checked the length. */
    private long nanosFromStart(Instant instant) {
        return Duration.between(start, instant).toNanos();
    }

    @Override
    public String toString() {
        return "[" + start + ", " + end + ")";
    }
}
