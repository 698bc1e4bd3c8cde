package com.modelmarket.billing.rating;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BillingPeriodTest {

    private static final BillingPeriod APRIL = BillingPeriod.month(YearMonth.of(2025, 4));

    private static Instant at(String text) {
        return Instant.parse(text);
    }

    @Test
    @DisplayName("a calendar month runs from the 1st 00:00 UTC to the next 1st and has its number of days")
    void calendarMonths() {
        assertEquals(at("2025-04-01T00:00:00Z"), APRIL.start());
        assertEquals(at("2025-05-01T00:00:00Z"), APRIL.end());
        assertEquals(30, APRIL.days());
        assertEquals(29, BillingPeriod.month(YearMonth.of(2024, 2)).days());
        assertEquals(28, BillingPeriod.month(YearMonth.of(2025, 2)).days());
        assertEquals(31, BillingPeriod.month(YearMonth.of(2025, 12)).days());
        assertEquals(BillingPeriod.month(YearMonth.of(2026, 1)), BillingPeriod.month(YearMonth.of(2025, 12)).next());
        assertEquals(APRIL, BillingPeriod.monthOf(at("2025-04-30T23:59:59.999Z")));
    }

    @Test
    @DisplayName("days touched count partial days whole, and an end at midnight does not touch the next day")
    void daysTouched() {
        assertEquals(30, APRIL.daysTouched(at("2025-01-01T00:00:00Z"), null));
        assertEquals(30, APRIL.daysTouched(APRIL.start(), APRIL.end()));
        assertEquals(1, APRIL.daysTouched(at("2025-04-10T23:59:59Z"), at("2025-04-11T00:00:00Z")));
        assertEquals(2, APRIL.daysTouched(at("2025-04-10T23:59:59Z"), at("2025-04-11T00:00:01Z")));
        assertEquals(10, APRIL.daysTouched(APRIL.start(), at("2025-04-11T00:00:00Z")));
        assertEquals(20, APRIL.daysTouched(at("2025-04-11T10:00:00Z"), null));
        assertEquals(1, APRIL.daysTouched(at("2025-03-01T00:00:00Z"), at("2025-04-01T00:00:00.001Z")));
        assertEquals(0, APRIL.daysTouched(at("2025-03-01T00:00:00Z"), APRIL.start()));
        assertEquals(0, APRIL.daysTouched(APRIL.end(), null));
    }

    @Test
    @DisplayName("a test period can use seconds as days")
    void shortPeriods() {
        Instant start = at("2030-01-01T00:00:00Z");
        BillingPeriod period = BillingPeriod.ofDays(start, Duration.ofSeconds(1), 10);
        assertEquals(10, period.days());
        assertEquals(3, period.daysTouched(start.plusMillis(2_500), start.plusSeconds(5)));
        assertEquals(BillingPeriod.ofDays(start.plusSeconds(10), Duration.ofSeconds(1), 10), period.next());
        assertThrows(IllegalArgumentException.class,
                () -> new BillingPeriod(start, start.plusMillis(1_500), Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new BillingPeriod(start, start, Duration.ofSeconds(1)));
    }
}
