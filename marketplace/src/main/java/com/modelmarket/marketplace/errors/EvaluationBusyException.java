package com.modelmarket.marketplace.errors;

/**
 * An evaluation job that cannot be queued now: the tenant already has as many jobs open as it may
 * ({@code perTenant}: 429), or the node's evaluation queue is full (503). Both say when to try again.
 */
public final class EvaluationBusyException extends DomainException {

    private final boolean perTenant;
    private final long retryAfterSeconds;

    public EvaluationBusyException(String detail, boolean perTenant, long retryAfterSeconds) {
        super(detail);
        this.perTenant = perTenant;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public boolean perTenant() {
        return perTenant;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
