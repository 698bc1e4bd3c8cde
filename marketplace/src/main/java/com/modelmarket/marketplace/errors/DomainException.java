package com.modelmarket.marketplace.errors;

/**
 * A refusal meant for the caller; its message is the detail they read. No stack trace: these
 * are expected outcomes, thrown on hot paths, and never logged as server errors.
 */
public abstract class DomainException extends RuntimeException {

    protected DomainException(String detail) {
        super(detail, null, false, false);
    }
}
