package com.modelmarket.marketplace.errors;

/** The caller is not authenticated: no credentials, or credentials that do not hold. */
public final class UnauthorizedException extends DomainException {

    public UnauthorizedException(String detail) {
        super(detail);
    }
}
