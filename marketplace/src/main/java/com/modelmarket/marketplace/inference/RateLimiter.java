package com.modelmarket.marketplace.inference;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Requests per minute per tenant and model: fixed one-minute windows, counted in memory on each
 * node. A decision carries what the IETF {@code RateLimit} and {@code RateLimit-Policy} headers
 * report: the quota, what remains and the seconds until the window resets.
 */
public final class RateLimiter {

    private static final long WINDOW_MILLIS = 60_000;

    private final Clock clock;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    public RateLimiter(Clock clock) {
        this.clock = clock;
    }

    /** The outcome of one admission. */
    public record Decision(boolean allowed, int limit, int remaining, long resetSeconds) {

        public String policyHeader() {
            return "\"per-minute\";q=" + limit + ";w=60";
        }

        public String rateLimitHeader() {
            return "\"per-minute\";r=" + remaining + ";t=" + resetSeconds;
        }
    }

    private static final class Window {
        long start;
        int count;
    }

    public Decision acquire(String key, int limitPerMinute) {
        long now = clock.millis();
        long start = now - now % WINDOW_MILLIS;
        long reset = Math.max(1, (start + WINDOW_MILLIS - now + 999) / 1000);
        if (windows.size() > 200_000) {
            windows.entrySet().removeIf(e -> e.getValue().start < start);
        }
        Window w = windows.computeIfAbsent(key, k -> new Window());
        synchronized (w) {
            if (w.start != start) {
                w.start = start;
                w.count = 0;
            }
            if (w.count >= limitPerMinute) {
                return new Decision(false, limitPerMinute, 0, reset);
            }
            w.count++;
            return new Decision(true, limitPerMinute, limitPerMinute - w.count, reset);
        }
    }
}
