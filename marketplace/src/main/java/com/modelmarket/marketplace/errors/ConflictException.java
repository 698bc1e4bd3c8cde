package com.modelmarket.marketplace.errors;

/** The request contradicts the current state: a taken name, an immutable version, the last owner. */
public final class ConflictException extends DomainException {

    public ConflictException(String detail) {
        super(detail);
    }
}
