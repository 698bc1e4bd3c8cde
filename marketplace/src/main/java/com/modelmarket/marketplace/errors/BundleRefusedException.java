package com.modelmarket.marketplace.errors;

/** An uploaded algorithm bundle that fails one of the bundle checks. */
public final class BundleRefusedException extends DomainException {

    private final String reason;

    public BundleRefusedException(String reason) {
        super("The bundle was refused: " + reason);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
