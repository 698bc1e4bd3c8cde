package com.modelmarket.marketplace.errors;

/** A body over what the endpoint accepts. */
public final class PayloadTooLargeException extends DomainException {

    private final long maxBytes;

    public PayloadTooLargeException(String detail, long maxBytes) {
        super(detail);
        this.maxBytes = maxBytes;
    }

    public long maxBytes() {
        return maxBytes;
    }
}
