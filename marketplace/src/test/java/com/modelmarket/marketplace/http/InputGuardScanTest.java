package com.modelmarket.marketplace.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The scan for percent-encoded control characters agrees with the regular expression it replaced. */
class InputGuardScanTest {

    private static final Pattern FORMER = Pattern.compile("%[01][0-9A-Fa-f]");
    private static final char[] ALPHABET = "%%%0011aAfFgG9/ -_x\u0661\uff10".toCharArray();

    @Test
    @DisplayName("hasEncodedControl finds what %[01][0-9A-Fa-f] found, in 100,000 seeded random paths")
    void agreesWithTheRegex() {
        long seed = Long.getLong("mm.test.seed", System.nanoTime());
        System.out.println("InputGuardScanTest seed " + seed + " (-Dmm.test.seed to repeat)");
        Random random = new Random(seed);
        for (int n = 0; n < 100_000; n++) {
            StringBuilder path = new StringBuilder("/");
            int length = random.nextInt(12);
            for (int i = 0; i < length; i++) {
                path.append(ALPHABET[random.nextInt(ALPHABET.length)]);
            }
            String p = path.toString();
            assertEquals(FORMER.matcher(p).find(), InputGuard.hasEncodedControl(p), "seed " + seed + ": " + p);
        }
        assertEquals(false, InputGuard.hasEncodedControl("/v2/models/light/infer"));
        assertEquals(true, InputGuard.hasEncodedControl("/api/v1/models/a%00b"));
        assertEquals(true, InputGuard.hasEncodedControl("/x%1f"));
        assertEquals(false, InputGuard.hasEncodedControl("/x%1"));
        assertEquals(false, InputGuard.hasEncodedControl("/x%20"));
    }
}
