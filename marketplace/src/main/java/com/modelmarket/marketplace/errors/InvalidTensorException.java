package com.modelmarket.marketplace.errors;

/** An inference request whose tensor does not fit the model's manifest or the limits. */
public final class InvalidTensorException extends DomainException {

    private final String tensor;
    private final String reason;

    public InvalidTensorException(String tensor, String reason) {
        super(tensor + ": " + reason);
        this.tensor = tensor;
        this.reason = reason;
    }

    public String tensor() {
        return tensor;
    }

    public String reason() {
        return reason;
    }
}
