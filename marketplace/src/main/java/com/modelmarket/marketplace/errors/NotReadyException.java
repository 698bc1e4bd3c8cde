package com.modelmarket.marketplace.errors;

/** The platform cannot serve yet (or any more): its database is unreachable or out of date. */
public final class NotReadyException extends DomainException {

    public NotReadyException(String detail) {
        super(detail);
    }
}
