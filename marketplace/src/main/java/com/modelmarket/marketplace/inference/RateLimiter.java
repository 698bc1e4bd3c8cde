package com.modelmarket.marketplace.inference;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Requests per minute per tenant and model: fixed one-minute windows (aligned to the clock's
 * minutes), counted in memory on each node. In a cluster each API node admits its share of the
 * limit, {@code ceil(limit / n)} for the {@code n} API nodes it hears: at most {@code n * ceil(limit
 * / n)} (the limit plus at most {@code n - 1}) in a window while {@code n} holds, the whole limit only
 * when a balancer gives every node its share of a tenant's calls; what happens while nodes join or
 * leave is in docs/operations.md ("Rate limits across API nodes"). A decision carries what a caller
 * is told of its limit (the IETF {@code RateLimit} and {@code RateLimit-Policy} headers): the quota,
 * what remains and the seconds until the window resets.
 */
public final class RateLimiter {

    /** The length of a window, which the {@code RateLimit-Policy} header reports. */
    public static final long WINDOW_SECONDS = 60;
    private static final long WINDOW_MILLIS = WINDOW_SECONDS * 1000;

    private final Clock clock;
    private final java.util.function.IntSupplier apiNodes;
    private final ConcurrentHashMap<Object, Window> windows = new ConcurrentHashMap<>();

    public RateLimiter(Clock clock) {
        this(clock, () -> 1);
    }

    /** A limiter that admits this node's share of each limit: {@code apiNodes} says how many share it. */
    public RateLimiter(Clock clock, java.util.function.IntSupplier apiNodes) {
        this.clock = clock;
        this.apiNodes = apiNodes;
    }

    /** The outcome of one admission. */
    public record Decision(boolean allowed, int limit, int remaining, long resetSeconds) {
    }

    private static final class Window {
        long start;
        int count;
    }

    /** Counts one call under {@code key} (any value with equals and hashCode: a tenant and model). */
    public Decision acquire(Object key, int limitPerMinute) {
        long now = clock.millis();
        long start = now - now % WINDOW_MILLIS;
        long reset = Math.max(1, (start + WINDOW_MILLIS - now + 999) / 1000);
        if (windows.size() > 200_000) {
            windows.entrySet().removeIf(e -> e.getValue().start < start);
        }
        int nodes = Math.max(1, apiNodes.getAsInt());
        int share = nodes == 1 ? limitPerMinute : (int) Math.min(limitPerMinute, ((long) limitPerMinute + nodes - 1) / nodes);
        Window w = windows.computeIfAbsent(key, k -> new Window());
        synchronized (w) {
            if (w.start != start) {
                w.start = start;
                w.count = 0;
            }
            if (w.count >= share) {
                return new Decision(false, limitPerMinute, 0, reset);
            }
            w.count++;
            // what is left of the whole limit, as far as this node can tell (its share, scaled)
            return new Decision(true, limitPerMinute, (int) Math.min(limitPerMinute, (long) (share - w.count) * nodes), reset);
        }
    }
}
