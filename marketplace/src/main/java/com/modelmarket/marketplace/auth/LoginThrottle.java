package com.modelmarket.marketplace.auth;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts failed logins per account and per client address in a sliding window, and says how long
 * a caller must wait once a limit is reached. In memory, per node (a login flood spread over
 * nodes is slowed by each node).
 */
public final class LoginThrottle {

    private final int maxPerAccount;
    private final int maxPerAddress;
    private final Duration window;
    private final Clock clock;
    private final ConcurrentHashMap<String, Deque<Long>> failures = new ConcurrentHashMap<>();

    public LoginThrottle(int maxPerAccount, Duration window, Clock clock) {
        this.maxPerAccount = maxPerAccount;
        this.maxPerAddress = maxPerAccount * 4;
        this.window = window;
        this.clock = clock;
    }

    /** Seconds to wait before another attempt, or 0 when an attempt is allowed now. */
    public long retryAfterSeconds(String account, String address) {
        return Math.max(wait("a:" + account, maxPerAccount), wait("ip:" + address, maxPerAddress));
    }

    public void recordFailure(String account, String address) {
        long now = clock.millis();
        record("a:" + account, now);
        record("ip:" + address, now);
        if (failures.size() > 100_000) {
            prune(now);
        }
    }

    public void recordSuccess(String account) {
        failures.remove("a:" + account);
    }

    private long wait(String key, int max) {
        Deque<Long> times = failures.get(key);
        if (times == null) {
            return 0;
        }
        long now = clock.millis();
        synchronized (times) {
            drop(times, now);
            if (times.size() < max) {
                return 0;
            }
            long oldest = times.peekFirst();
            return Math.max(1, (oldest + window.toMillis() - now + 999) / 1000);
        }
    }

    private void record(String key, long now) {
        Deque<Long> times = failures.computeIfAbsent(key, k -> new ArrayDeque<>());
        synchronized (times) {
            drop(times, now);
            times.addLast(now);
        }
    }

    private void drop(Deque<Long> times, long now) {
        while (!times.isEmpty() && times.peekFirst() <= now - window.toMillis()) {
            times.removeFirst();
        }
    }

    private void prune(long now) {
        failures.entrySet().removeIf(e -> {
            synchronized (e.getValue()) {
                drop(e.getValue(), now);
                return e.getValue().isEmpty();
            }
        });
    }
}
