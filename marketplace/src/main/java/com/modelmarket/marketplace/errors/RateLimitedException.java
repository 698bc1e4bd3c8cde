package com.modelmarket.marketplace.errors;

/**
 * A request over its rate limit, with the limiter's decision: the quota of the window, what is
 * left of it and the seconds until it resets.
 */
public final class RateLimitedException extends DomainException {

    private final int limit;
    private final int remaining;
    private final long resetSeconds;
    private final long windowSeconds;

    public RateLimitedException(String detail, int limit, int remaining, long resetSeconds, long windowSeconds) {
        super(detail);
        this.limit = limit;
        this.remaining = remaining;
        this.resetSeconds = resetSeconds;
        this.windowSeconds = windowSeconds;
    }

    public int limit() {
        return limit;
    }

    public int remaining() {
        return remaining;
    }

    public long resetSeconds() {
        return resetSeconds;
    }

    public long windowSeconds() {
        return windowSeconds;
    }
}
