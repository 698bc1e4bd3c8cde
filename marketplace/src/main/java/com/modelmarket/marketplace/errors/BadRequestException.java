package com.modelmarket.marketplace.errors;

/** A request that cannot be understood as sent (a query parameter, a cursor, a path). */
public final class BadRequestException extends DomainException {

    public BadRequestException(String detail) {
        super(detail);
    }
}
