package com.modelmarket.billing.metering;

import java.time.Duration;

/**
 * A call was refused before it ran because the meter's window is full: usage is not becoming
 * durable as fast as it arrives (the sink is down or slow and the journal is full or slow). The
 * call is not metered; it may be tried again after {@link #retryAfter()}.
 */
public final class MeteringBacklogException extends RuntimeException {

    private final Duration retryAfter;

    public MeteringBacklogException(int window, Duration retryAfter) {
        super("Usage metering is behind (" + window + " records wait to become durable); try again shortly");
        this.retryAfter = retryAfter;
    }

    public Duration retryAfter() {
        return retryAfter;
    }
}
