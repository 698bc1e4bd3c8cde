package com.modelmarket.billing.rating;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.modelmarket.billing.Money;
import com.modelmarket.billing.PlanType;
import com.modelmarket.billing.PricePlan;
import java.time.YearMonth;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RevenueShareTest {

    private static final BillingPeriod APRIL = BillingPeriod.month(YearMonth.of(2025, 4));
    private static final UUID PUBLISHER = UUID.fromString("00000000-0000-0000-0000-0000000000b0");
    private static final UUID MODEL_A = UUID.fromString("00000000-0000-0000-0000-0000000000c1");
    private static final UUID MODEL_B = UUID.fromString("00000000-0000-0000-0000-0000000000c2");

    private static Invoice invoice(UUID model, long monthlyFee) {
        UUID tenant = UUID.randomUUID();
        PricePlan plan = new PricePlan(UUID.randomUUID(), model, PUBLISHER, PlanType.MONTHLY, "USD", monthlyFee, 0, 0, 0);
        SubscriptionSegment s = new SubscriptionSegment(UUID.randomUUID(), tenant, plan, APRIL.start(), null);
        return Rater.rate(tenant, APRIL, List.of(s), Map.of()).get(0);
    }

    private static Money usd(long cents) {
        return new Money(cents, "USD");
    }

    @Test
    @DisplayName("the fee is rounded half up per model and the payout is the rest, to the cent")
    void perModelRounding() {
        List<PublisherRevenue> split = RevenueShare.split(List.of(invoice(MODEL_A, 1_000), invoice(MODEL_A, 5), invoice(MODEL_B, 1)), 1_500);
        assertEquals(1, split.size());
        PublisherRevenue publisher = split.get(0);
        ModelRevenue a = publisher.models().get(0);
        assertEquals(MODEL_A, a.modelId());
        assertEquals(usd(1_005), a.gross());
        assertEquals(usd(151), a.fee());        // 1005 × 15% = 150.75 → 151
        assertEquals(usd(854), a.payout());
        ModelRevenue b = publisher.models().get(1);
        assertEquals(usd(0), b.fee());          // 1 × 15% = 0.15 → 0
        assertEquals(usd(1), b.payout());
        assertEquals(usd(1_006), publisher.gross());
        assertEquals(usd(151), publisher.fee());
        assertEquals(usd(855), publisher.payout());
    }

    @Test
    @DisplayName("a half cent of fee goes to the platform; 0 and 100 percent are exact")
    void edges() {
        assertEquals(usd(1), RevenueShare.fee(usd(1), 5_000));
        assertEquals(usd(0), RevenueShare.fee(usd(999_999), 0));
        assertEquals(usd(999_999), RevenueShare.fee(usd(999_999), 10_000));
        assertThrows(IllegalArgumentException.class, () -> RevenueShare.split(List.of(), -1));
        assertThrows(IllegalArgumentException.class, () -> RevenueShare.split(List.of(), 10_001));
    }

    @Test
    @DisplayName("invoices of different periods are not mixed")
    void onePeriod() {
        Invoice april = invoice(MODEL_A, 100);
        Invoice may = Invoice.of(april.tenantId(), APRIL.next(), "USD", List.of());
        assertThrows(IllegalArgumentException.class, () -> RevenueShare.split(List.of(april, may), 1_000));
    }
}
