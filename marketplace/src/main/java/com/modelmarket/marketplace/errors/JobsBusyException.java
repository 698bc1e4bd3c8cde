package com.modelmarket.marketplace.errors;

/**
 * A job (a training job, an evaluation) that cannot be queued now: the tenant already has as many
 * jobs of its kind open as it may ({@code perTenant}: 429), or the node's queue for the kind is full
 * (503, problem type {@code <kind>-busy}). Both say when to try again.
 *
 * @param kind the jobs' kind as the problem type names it: {@code training}, {@code evaluation}
 */
public final class JobsBusyException extends DomainException {

    private final String kind;
    private final boolean perTenant;
    private final long retryAfterSeconds;

    public JobsBusyException(String kind, String detail, boolean perTenant, long retryAfterSeconds) {
        super(detail);
        this.kind = kind;
        this.perTenant = perTenant;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public String kind() {
        return kind;
    }

    public boolean perTenant() {
        return perTenant;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
