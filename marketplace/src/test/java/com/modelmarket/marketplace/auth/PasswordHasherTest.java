package com.modelmarket.marketplace.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PasswordHasherTest {

    @Test
    @DisplayName("Argon2id with the production parameters: PHC format, salted, verifies only the right password")
    void argon2id() {
        PasswordHasher hasher = new PasswordHasher(19456, 2, 1);
        String a = hasher.hash("correct horse");
        String b = hasher.hash("correct horse");
        assertTrue(a.startsWith("$argon2id$v=19$m=19456,t=2,p=1$"), a);
        assertNotEquals(a, b, "each hash has its own salt");
        assertTrue(hasher.verify("correct horse", a));
        assertTrue(hasher.verify("correct horse", b));
        assertFalse(hasher.verify("correct horsf", a));
        assertFalse(hasher.verify("correct horse", "$argon2i$v=19$m=8,t=1,p=1$AAAA$AAAA"));
        assertFalse(hasher.verify("correct horse", "garbage"));
    }

    @Test
    @DisplayName("the login throttle blocks after the limit, tells how long, and forgets after the window")
    void throttle() {
        MutableClock clock = new MutableClock();
        LoginThrottle throttle = new LoginThrottle(3, 20, Duration.ofSeconds(60), Duration.ofMinutes(10), clock);
        for (int i = 0; i < 3; i++) {
            assertTrue(throttle.retryAfterSeconds("a@b", "1.2.3.4") == 0);
            throttle.recordFailure("a@b", "1.2.3.4");
        }
        long wait = throttle.retryAfterSeconds("a@b", "1.2.3.4");
        assertTrue(wait > 0 && wait <= 600, "wait " + wait);
        assertTrue(throttle.retryAfterSeconds("other@b", "5.6.7.8") == 0, "other accounts are unaffected");
        clock.now = clock.now.plus(Duration.ofMinutes(10)).plusSeconds(1);
        assertTrue(throttle.retryAfterSeconds("a@b", "1.2.3.4") == 0);
    }

    private static final class MutableClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

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
            return now;
        }
    }
}
