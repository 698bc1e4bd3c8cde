package com.modelmarket.marketplace.errors;

/** Too many failed attempts (logins); the caller may try again after {@code retryAfterSeconds}. */
public final class TooManyAttemptsException extends DomainException {

    private final long retryAfterSeconds;

    public TooManyAttemptsException(String detail, long retryAfterSeconds) {
        super(detail);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
