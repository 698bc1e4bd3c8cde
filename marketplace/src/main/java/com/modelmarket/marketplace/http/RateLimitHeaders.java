package com.modelmarket.marketplace.http;

/**
 * The IETF {@code RateLimit-Policy} and {@code RateLimit} header values, written the same way on
 * an admitted call and on a refused one.
 */
public final class RateLimitHeaders {

    public static final String POLICY = "RateLimit-Policy";
    public static final String STATE = "RateLimit";

    private RateLimitHeaders() {
    }

    public static String policy(int limit, long windowSeconds) {
        return "\"per-minute\";q=" + limit + ";w=" + windowSeconds;
    }

    public static String state(int remaining, long resetSeconds) {
        return "\"per-minute\";r=" + remaining + ";t=" + resetSeconds;
    }
}
