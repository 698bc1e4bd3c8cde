package com.modelmarket.marketplace.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The throttle's policy on a clock the test moves: slow the attacker, never lock out the owner. */
class LoginThrottleTest {

    private static final class MovableClock extends Clock {
        long millis = 1_000_000_000L;

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    private final MovableClock clock = new MovableClock();
    private final LoginThrottle throttle = new LoginThrottle(5, 20, Duration.ofSeconds(60), Duration.ofSeconds(900), clock);

    @Test
    @DisplayName("five failures from one address throttle that address for the account; the owner at another address is not held up")
    void attackerAddressOnly() {
        for (int i = 0; i < 5; i++) {
            assertEquals(0, throttle.retryAfterSeconds("owner@a.test", "203.0.113.9"));
            throttle.recordFailure("owner@a.test", "203.0.113.9");
        }
        assertEquals(900, throttle.retryAfterSeconds("owner@a.test", "203.0.113.9"));
        assertEquals(0, throttle.retryAfterSeconds("owner@a.test", "198.51.100.7"), "the owner elsewhere");
        assertEquals(0, throttle.retryAfterSeconds("other@a.test", "203.0.113.9"), "another account from the attacker's address");
        clock.millis += 900_000;
        assertEquals(0, throttle.retryAfterSeconds("owner@a.test", "203.0.113.9"), "the window passes");
    }

    @Test
    @DisplayName("guesses spread over many addresses meet a global per-account backoff that doubles and stays bounded (60 s): slowed, never locked")
    void distributedGuessesBackOff() {
        for (int i = 0; i < 20; i++) {
            throttle.recordFailure("victim@a.test", "10.0.0." + i);
        }
        assertEquals(1, throttle.retryAfterSeconds("victim@a.test", "198.51.100.7"));
        long previous = 0;
        for (int i = 0; i < 12; i++) {
            throttle.recordFailure("victim@a.test", "10.0.1." + i);
            long wait = throttle.retryAfterSeconds("victim@a.test", "198.51.100.7");
            assertTrue(wait >= previous && wait <= 60, "wait " + wait);
            previous = wait;
        }
        assertEquals(60, previous, "capped");
        clock.millis += 60_000;
        assertEquals(0, throttle.retryAfterSeconds("victim@a.test", "198.51.100.7"), "the owner gets in after the bound");
    }

    @Test
    @DisplayName("a success clears only its own address's count, not what attackers elsewhere have spent")
    void successClearsOwnPair() {
        for (int i = 0; i < 5; i++) {
            throttle.recordFailure("owner@a.test", "203.0.113.9");
        }
        throttle.recordSuccess("owner@a.test", "198.51.100.7");
        assertEquals(900, throttle.retryAfterSeconds("owner@a.test", "203.0.113.9"));
    }
}
