package com.modelmarket.billing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MoneyTest {

    @Test
    @DisplayName("sums of random amounts in minor units are exact and order-independent")
    void exactSums() {
        long seed = Long.getLong("test.seed", System.nanoTime());
        Random random = new Random(seed);
        for (int round = 0; round < 200; round++) {
            int n = 1 + random.nextInt(50);
            long[] amounts = new long[n];
            long expected = 0;
            for (int i = 0; i < n; i++) {
                amounts[i] = random.nextInt(2_000_000) - 1_000_000;
                expected += amounts[i];
            }
            Money forward = Money.zero("EUR");
            Money backward = Money.zero("EUR");
            for (int i = 0; i < n; i++) {
                forward = forward.plus(new Money(amounts[i], "EUR"));
                backward = backward.plus(new Money(amounts[n - 1 - i], "EUR"));
            }
            assertEquals(expected, forward.minorUnits(), "seed " + seed);
            assertEquals(forward, backward, "seed " + seed);
        }
    }

    @Test
    @DisplayName("mixing currencies, bad codes and overflow are refused")
    void refusals() {
        assertThrows(IllegalArgumentException.class, () -> new Money(1, "EUR").plus(new Money(1, "USD")));
        assertThrows(IllegalArgumentException.class, () -> new Money(1, "eur"));
        assertThrows(ArithmeticException.class, () -> new Money(Long.MAX_VALUE, "USD").plus(new Money(1, "USD")));
        assertEquals(new Money(-5, "USD"), new Money(10, "USD").minus(new Money(15, "USD")));
    }
}
