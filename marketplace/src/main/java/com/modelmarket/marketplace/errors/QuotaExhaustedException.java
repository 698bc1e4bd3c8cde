package com.modelmarket.marketplace.errors;

import java.time.Instant;

/** A plan's allowance for the period is used up until {@code resetAt}. */
public final class QuotaExhaustedException extends DomainException {

    private final Instant resetAt;

    public QuotaExhaustedException(String detail, Instant resetAt) {
        super(detail);
        this.resetAt = resetAt;
    }

    public Instant resetAt() {
        return resetAt;
    }
}
