package com.modelmarket.marketplace.inference;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Requests per minute per tenant and model: fixed one-minute windows, counted in memory on each
 * node. A decision carries what a caller is told of its limit (the IETF {@code RateLimit} and
 * {@code RateLimit-Policy} headers): the quota, what remains and the seconds until the window resets.
 */
public final class RateLimiter {

    /** The length of a window, which the {@code RateLimit-Policy} header reports. */
    public static final long WINDOW_SECONDS = 60;
    private static final long WINDOW_MILLIS = WINDOW_SECONDS * 1000;

    private final Clock clock;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    public RateLimiter(Clock clock) {
        this.clock = clock;
    }

    /** The outcome of one admission. */
    public record Decision(boolean allowed, int limit, int remaining, long resetSeconds) {
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
