package com.modelmarket.billing;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PricePlanTest {

    private static PricePlan plan(PlanType type, String currency, long fee, long included, long per1000, int rateLimit) {
        return new PricePlan(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), type, currency, fee, included, per1000, rateLimit);
    }

    @Test
    @DisplayName("each plan type accepts the fields that apply to it")
    void validPlans() {
        assertDoesNotThrow(() -> plan(PlanType.FREE, "USD", 0, 1_000, 0, 60));
        assertDoesNotThrow(() -> plan(PlanType.PAY_AS_YOU_GO, "EUR", 0, 0, 250, 0));
        assertDoesNotThrow(() -> plan(PlanType.MONTHLY, "JPY", 5_000, 100_000, 40, 600));
        assertEquals(new Money(5_000, "USD"), plan(PlanType.MONTHLY, "USD", 5_000, 0, 0, 0).monthlyFee());
    }

    @Test
    @DisplayName("fields that do not apply to the plan type must be zero")
    void inapplicableFieldsAreZero() {
        assertThrows(IllegalArgumentException.class, () -> plan(PlanType.FREE, "USD", 1, 1_000, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> plan(PlanType.FREE, "USD", 0, 1_000, 5, 0));
        assertThrows(IllegalArgumentException.class, () -> plan(PlanType.PAY_AS_YOU_GO, "USD", 100, 0, 5, 0));
        assertThrows(IllegalArgumentException.class, () -> plan(PlanType.PAY_AS_YOU_GO, "USD", 0, 10, 5, 0));
    }

    @Test
    @DisplayName("negative numbers, unknown currencies and missing ids are refused")
    void refusals() {
        assertThrows(IllegalArgumentException.class, () -> plan(PlanType.MONTHLY, "USD", -1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> plan(PlanType.MONTHLY, "USD", 0, -1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> plan(PlanType.MONTHLY, "USD", 0, 0, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> plan(PlanType.MONTHLY, "USD", 0, 0, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> plan(PlanType.MONTHLY, "usd", 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> plan(PlanType.MONTHLY, "XYZ", 0, 0, 0, 0));
        assertThrows(NullPointerException.class, () -> plan(PlanType.MONTHLY, null, 0, 0, 0, 0));
        assertThrows(NullPointerException.class,
                () -> new PricePlan(null, UUID.randomUUID(), UUID.randomUUID(), PlanType.FREE, "USD", 0, 0, 0, 0));
    }
}
