package com.modelmarket.serving;

import java.time.Duration;

/** The queue of a model version is full (or the engine is shutting down): retry later. */
public final class OverloadedException extends ServingException {

    private final transient Duration retryAfter;

    public OverloadedException(String message, Duration retryAfter) {
        super(message);
        this.retryAfter = retryAfter;
    }

    /** With a cause, e.g. a {@code BrokenException} that takes the worker that failed out of service. */
    public OverloadedException(String message, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.retryAfter = retryAfter;
    }

    /** A hint for the Retry-After header: about when the backlog should have cleared. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
