package com.modelmarket.marketplace.auth;

import com.modelmarket.marketplace.config.AppConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows password guessing without handing an attacker a way to lock the owner out (OWASP's
 * authentication cheat sheet: throttle, do not lock). Three counts of failed logins in a sliding
 * window, in memory on each node:
 * <ul>
 *   <li>per account <em>and</em> client address: {@code maxPerPair} failures, then that address
 *   waits until the oldest failure leaves the window — the attacker's address is stopped, the
 *   owner's other addresses are not;</li>
 *   <li>per client address, over all accounts: {@code 4 × maxPerPair} (one address spraying many
 *   accounts);</li>
 *   <li>per account, over all addresses: after {@code accountBackoffAfter} failures each further
 *   attempt waits 1 s, 2 s, 4 s … after the last failure, at most {@code accountBackoffMax} — a
 *   slow global backoff against guesses spread over many addresses, which delays the owner by at
 *   most that bound and never locks the account.</li>
 * </ul>
 * A successful login clears its own (account, address) count only, so it does not reset what an
 * attacker elsewhere has spent.
 */
public final class LoginThrottle {

    private final int maxPerPair;
    private final int maxPerAddress;
    private final int accountBackoffAfter;
    private final Duration accountBackoffMax;
    private final Duration window;
    private final Clock clock;
    private final ConcurrentHashMap<String, Deque<Long>> failures = new ConcurrentHashMap<>();

    public LoginThrottle(int maxPerPair, int accountBackoffAfter, Duration accountBackoffMax, Duration window, Clock clock) {
        this.maxPerPair = maxPerPair;
        this.maxPerAddress = maxPerPair * 4;
        this.accountBackoffAfter = accountBackoffAfter;
        this.accountBackoffMax = accountBackoffMax;
        this.window = window;
        this.clock = clock;
    }

    public static LoginThrottle from(AppConfig config, Clock clock) {
        return new LoginThrottle(config.loginMaxFailures(), config.loginAccountBackoffAfter(),
                config.loginAccountBackoffMax(), config.loginWindow(), clock);
    }

    /** Seconds to wait before another attempt, or 0 when an attempt is allowed now. */
    public long retryAfterSeconds(String account, String address) {
        long now = clock.millis();
        return Math.max(Math.max(windowWait(pair(account, address), maxPerPair, now), windowWait("ip:" + address, maxPerAddress, now)),
                accountBackoff("a:" + account, now));
    }

    public void recordFailure(String account, String address) {
        long now = clock.millis();
        record(pair(account, address), now);
        record("ip:" + address, now);
        record("a:" + account, now);
        if (failures.size() > 100_000) {
            prune(now);
        }
    }

    public void recordSuccess(String account, String address) {
        failures.remove(pair(account, address));
    }

    private static String pair(String account, String address) {
        return "p:" + address + "|" + account;
    }

    private long windowWait(String key, int max, long now) {
        Deque<Long> times = failures.get(key);
        if (times == null) {
            return 0;
        }
        synchronized (times) {
            drop(times, now);
            if (times.size() < max) {
                return 0;
            }
            long oldest = times.peekFirst();
            return seconds(oldest + window.toMillis() - now);
        }
    }

    private long accountBackoff(String key, long now) {
        Deque<Long> times = failures.get(key);
        if (times == null) {
            return 0;
        }
        synchronized (times) {
            drop(times, now);
            int over = times.size() - accountBackoffAfter;
            if (over < 0 || times.isEmpty()) {
                return 0;
            }
            long delay = Math.min(accountBackoffMax.toMillis(), 1000L << Math.min(over, 30));
            long wait = times.peekLast() + delay - now;
            return wait > 0 ? seconds(wait) : 0;
        }
    }

    private static long seconds(long millis) {
        return Math.max(1, (millis + 999) / 1000);
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
