package com.modelmarket.billing.rating;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.billing.Money;
import com.modelmarket.billing.PlanType;
import com.modelmarket.billing.PricePlan;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Examples computed by hand; the comments show the arithmetic. */
class RaterExamplesTest {

    private static final BillingPeriod APRIL = BillingPeriod.month(YearMonth.of(2025, 4)); // 30 days
    private static final UUID TENANT = UUID.fromString("00000000-0000-0000-0000-00000000000a");
    private static final UUID PUBLISHER = UUID.fromString("00000000-0000-0000-0000-0000000000b0");

    private static PricePlan plan(PlanType type, String currency, long fee, long included, long per1000) {
        return new PricePlan(UUID.randomUUID(), UUID.randomUUID(), PUBLISHER, type, currency, fee, included, per1000, 0);
    }

    private static SubscriptionSegment segment(UUID subscription, PricePlan plan, String from, String to) {
        return new SubscriptionSegment(subscription, TENANT, plan, Instant.parse(from), to == null ? null : Instant.parse(to));
    }

    private static Money usd(long cents) {
        return new Money(cents, "USD");
    }

    @Test
    @DisplayName("a monthly plan started mid-month pays for the days touched and its overage, rounded half up")
    void proratedMonthlyWithOverage() {
        PricePlan monthly = plan(PlanType.MONTHLY, "USD", 3_000, 10_000, 150);
        SubscriptionSegment s = segment(UUID.randomUUID(), monthly, "2025-04-11T10:00:00Z", null);
        InvoiceLine line = Rater.rateSegment(APRIL, s, 10_000);
        assertEquals(20, line.activeDays());                  // April 11..30
        assertEquals(usd(2_000), line.fee());                  // 3000 × 20/30 = 2000
        assertEquals(6_667, line.includedCalls());             // 10000 × 20/30 = 6666.67 → 6667
        assertEquals(3_333, line.quantity());                  // 10000 − 6667
        assertEquals(usd(500), line.usageAmount());            // 3333 × 150/1000 = 499.95 → 500
        assertEquals(usd(2_500), line.amount());
        assertEquals(Instant.parse("2025-04-11T10:00:00Z"), line.activeFrom());
        assertEquals(APRIL.end(), line.activeTo());
        assertEquals("Monthly plan, 20/30 days of 30.00 USD a month: 10,000 calls, 6,667 included, 3,333 over at 1.50 USD per 1,000",
                line.description());
    }

    @Test
    @DisplayName("an algorithm's plans price training jobs: per job and per minute of compute, minus the included minutes")
    void trainingJobs() {
        PricePlan payg = new PricePlan(UUID.randomUUID(), UUID.randomUUID(), PUBLISHER, PlanType.PAY_AS_YOU_GO, "USD", 0, 0, 0, 0,
                new com.modelmarket.billing.TrainingPrice(100, 60, 0));
        InvoiceLine a = Rater.rateSegment(APRIL, segment(UUID.randomUUID(), payg, "2025-04-01T00:00:00Z", null), 0,
                new Rater.TrainingUsage(2, 90_500));
        assertEquals(usd(291), a.training().amount());     // 2 × 100 + 90,500 ms × 60 / 60,000 = 200 + 90.5 → 291
        assertEquals(usd(291), a.amount());
        assertEquals("Pay as you go, 30/30 days: 0 calls at 0.00 USD per 1,000; 2 training jobs, 1.51 min of training compute",
                a.description());

        PricePlan monthly = new PricePlan(UUID.randomUUID(), UUID.randomUUID(), PUBLISHER, PlanType.MONTHLY, "USD", 1_000, 0, 0, 0,
                new com.modelmarket.billing.TrainingPrice(0, 100, 10));
        InvoiceLine b = Rater.rateSegment(APRIL, segment(UUID.randomUUID(), monthly, "2025-04-16T00:00:00Z", null), 0,
                new Rater.TrainingUsage(1, 15 * 60_000));
        assertEquals(300_000, b.training().includedMillis()); // 10 min × 15/30 days = 5 min
        assertEquals(600_000, b.training().chargedMillis());
        assertEquals(usd(1_000), b.training().amount());     // 10 min × 100
        assertEquals(usd(500 + 1_000), b.amount());          // half the fee + training

        PricePlan free = new PricePlan(UUID.randomUUID(), UUID.randomUUID(), PUBLISHER, PlanType.FREE, "USD", 0, 0, 0, 0,
                new com.modelmarket.billing.TrainingPrice(0, 0, 60));
        assertEquals(usd(0), Rater.rateSegment(APRIL, segment(UUID.randomUUID(), free, "2025-04-01T00:00:00Z", null), 0,
                new Rater.TrainingUsage(3, 3_600_000)).amount());
        assertThrows(IllegalArgumentException.class, () -> new PricePlan(UUID.randomUUID(), UUID.randomUUID(), PUBLISHER,
                PlanType.FREE, "USD", 0, 0, 0, 0, new com.modelmarket.billing.TrainingPrice(1, 0, 0)), "a free plan charges nothing");
    }

    @Test
    @DisplayName("a plan change at noon ends one line and starts another; the day of the change is on both")
    void planChangeMidDay() {
        UUID subscription = UUID.randomUUID();
        PricePlan basic = plan(PlanType.MONTHLY, "USD", 3_000, 0, 0);
        PricePlan pro = plan(PlanType.MONTHLY, "USD", 6_000, 0, 0);
        SubscriptionSegment first = segment(subscription, basic, "2025-03-20T00:00:00Z", "2025-04-16T12:00:00Z");
        SubscriptionSegment second = segment(subscription, pro, "2025-04-16T12:00:00Z", null);
        Invoice invoice = Rater.rate(TENANT, APRIL, List.of(second, first), Map.of()).get(0);
        assertEquals(2, invoice.lines().size());
        assertEquals(usd(1_600), invoice.lines().get(0).fee());   // 3000 × 16/30 (April 1..16)
        assertEquals(usd(3_000), invoice.lines().get(1).fee());   // 6000 × 15/30 (April 16..30)
        assertEquals(usd(4_600), invoice.total());
    }

    @Test
    @DisplayName("a segment that ends exactly at midnight does not pay for the next day")
    void endAtMidnight() {
        PricePlan monthly = plan(PlanType.MONTHLY, "USD", 3_000, 0, 0);
        InvoiceLine line = Rater.rateSegment(APRIL, segment(UUID.randomUUID(), monthly, "2025-04-01T00:00:00Z", "2025-04-11T00:00:00Z"), 0);
        assertEquals(10, line.activeDays());
        assertEquals(usd(1_000), line.fee());                    // 3000 × 10/30
    }

    @Test
    @DisplayName("exact halves round up, anything below a half rounds down")
    void halves() {
        PricePlan cent = plan(PlanType.MONTHLY, "USD", 1, 3, 0);
        InvoiceLine half = Rater.rateSegment(APRIL, segment(UUID.randomUUID(), cent, "2025-04-16T00:00:00Z", null), 0);
        assertEquals(usd(1), half.fee());                        // 1 × 15/30 = 0.5 → 1
        assertEquals(2, half.includedCalls());                   // 3 × 15/30 = 1.5 → 2
        InvoiceLine below = Rater.rateSegment(APRIL, segment(UUID.randomUUID(), cent, "2025-04-17T00:00:00Z", null), 0);
        assertEquals(usd(0), below.fee());                       // 1 × 14/30 = 0.47 → 0
        assertEquals(1, below.includedCalls());                  // 3 × 14/30 = 1.4 → 1

        PricePlan payg = plan(PlanType.PAY_AS_YOU_GO, "USD", 0, 0, 1);
        assertEquals(usd(1), Rater.rateSegment(APRIL, segment(UUID.randomUUID(), payg, "2025-04-01T00:00:00Z", null), 500).amount());
        assertEquals(usd(0), Rater.rateSegment(APRIL, segment(UUID.randomUUID(), payg, "2025-04-01T00:00:00Z", null), 499).amount());
    }

    @Test
    @DisplayName("pay as you go charges every call at the price per 1,000, with no fee and nothing included")
    void payAsYouGo() {
        PricePlan payg = plan(PlanType.PAY_AS_YOU_GO, "USD", 0, 0, 7);
        InvoiceLine line = Rater.rateSegment(APRIL, segment(UUID.randomUUID(), payg, "2025-04-29T00:00:00Z", null), 1_234);
        assertEquals(usd(0), line.fee());
        assertEquals(0, line.includedCalls());
        assertEquals(1_234, line.quantity());
        assertEquals(usd(9), line.amount());                     // 1234 × 7/1000 = 8.638 → 9
        assertEquals(usd(7), line.unitPricePer1000());
    }

    @Test
    @DisplayName("free usage is a zero line that still shows the calls and the prorated allowance")
    void free() {
        PricePlan free = plan(PlanType.FREE, "USD", 0, 1_000, 0);
        InvoiceLine line = Rater.rateSegment(BillingPeriod.month(YearMonth.of(2024, 2)),
                segment(UUID.randomUUID(), free, "2024-02-15T08:00:00Z", null), 5_000);
        assertEquals(15, line.activeDays());                     // February 15..29 of a leap year
        assertEquals(29, line.periodDays());
        assertEquals(517, line.includedCalls());                 // 1000 × 15/29 = 517.24 → 517
        assertEquals(5_000, line.calls());
        assertEquals(0, line.quantity());
        assertEquals(usd(0), line.amount());
    }

    @Test
    @DisplayName("calls within the allowance cost nothing beyond the fee")
    void noOverage() {
        PricePlan monthly = plan(PlanType.MONTHLY, "USD", 2_900, 10_000, 500);
        InvoiceLine line = Rater.rateSegment(APRIL, segment(UUID.randomUUID(), monthly, "2025-01-01T00:00:00Z", null), 9_999);
        assertEquals(usd(2_900), line.fee());
        assertEquals(0, line.quantity());
        assertEquals(usd(2_900), line.amount());
    }

    @Test
    @DisplayName("a short test period prorates by its own days")
    void shortPeriod() {
        Instant start = Instant.parse("2030-01-01T00:00:00Z");
        BillingPeriod period = BillingPeriod.ofDays(start, Duration.ofSeconds(1), 10);
        PricePlan monthly = plan(PlanType.MONTHLY, "USD", 1_000, 100, 10);
        SubscriptionSegment s = new SubscriptionSegment(UUID.randomUUID(), TENANT, monthly, start.plusMillis(2_500), start.plusSeconds(5));
        InvoiceLine line = Rater.rateSegment(period, s, 1_000);
        assertEquals(3, line.activeDays());                      // seconds 2, 3 and 4
        assertEquals(usd(300), line.fee());                      // 1000 × 3/10
        assertEquals(30, line.includedCalls());                  // 100 × 3/10
        assertEquals(usd(10), line.usageAmount());               // 970 × 10/1000 = 9.7 → 10
    }

    @Test
    @DisplayName("a tenant with USD and EUR subscriptions gets one invoice per currency")
    void oneInvoicePerCurrency() {
        SubscriptionSegment dollars = segment(UUID.randomUUID(), plan(PlanType.MONTHLY, "USD", 1_000, 0, 0), "2025-04-01T00:00:00Z", null);
        SubscriptionSegment euros = segment(UUID.randomUUID(), plan(PlanType.PAY_AS_YOU_GO, "EUR", 0, 0, 100), "2025-04-01T00:00:00Z", null);
        List<Invoice> invoices = Rater.rate(TENANT, APRIL, List.of(dollars, euros), Map.of(euros, 2_000L));
        assertEquals(2, invoices.size());
        assertEquals("EUR", invoices.get(0).currency());
        assertEquals(new Money(200, "EUR"), invoices.get(0).total());
        assertEquals("USD", invoices.get(1).currency());
        assertEquals(usd(1_000), invoices.get(1).total());
    }

    @Test
    @DisplayName("segments outside the period are left out, but usage for them is refused rather than lost")
    void segmentsOutsideThePeriod() {
        PricePlan monthly = plan(PlanType.MONTHLY, "USD", 1_000, 0, 0);
        SubscriptionSegment march = segment(UUID.randomUUID(), monthly, "2025-03-01T00:00:00Z", "2025-04-01T00:00:00Z");
        assertTrue(Rater.rate(TENANT, APRIL, List.of(march), Map.of()).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> Rater.rate(TENANT, APRIL, List.of(march), Map.of(march, 5L)));
    }

    @Test
    @DisplayName("overlapping segments of one subscription, other tenants' segments and negative calls are refused")
    void refusals() {
        UUID subscription = UUID.randomUUID();
        PricePlan monthly = plan(PlanType.MONTHLY, "USD", 1_000, 0, 0);
        SubscriptionSegment a = segment(subscription, monthly, "2025-04-01T00:00:00Z", "2025-04-10T00:00:00Z");
        SubscriptionSegment b = segment(subscription, monthly, "2025-04-09T00:00:00Z", null);
        assertThrows(IllegalArgumentException.class, () -> Rater.rate(TENANT, APRIL, List.of(a, b), Map.of()));
        SubscriptionSegment foreign = new SubscriptionSegment(UUID.randomUUID(), UUID.randomUUID(), monthly, APRIL.start(), null);
        assertThrows(IllegalArgumentException.class, () -> Rater.rate(TENANT, APRIL, List.of(foreign), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> Rater.rateSegment(APRIL, a, -1));
    }
}
