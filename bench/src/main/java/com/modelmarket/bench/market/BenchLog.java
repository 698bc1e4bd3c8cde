package com.modelmarket.bench.market;

import java.time.LocalTime;
import java.util.Locale;

/** The bench's progress lines on standard error, each with the time of day. */
final class BenchLog {

    private BenchLog() {
    }

    static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "[%tT] " + format + "%n", prepend(LocalTime.now(), args));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
