package com.modelmarket.marketplace.training;

import com.modelmarket.marketplace.errors.JobsBusyException;
import io.vertx.core.Future;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounds of one node's pool of jobs of a kind (training jobs, evaluations): at most {@code
 * capacity} open (running or queued) on the node, 503 beyond; at most {@code perTenant} open per
 * tenant, 429 beyond; none once the node is closing. A place taken by {@link #admit} is given back
 * by {@link #release} exactly once, when the job ends or its creation failed.
 */
public final class JobAdmission {

    private final String kind;
    private final String jobs;
    private final int capacity;
    private final int perTenant;
    private final long tenantRetrySeconds;
    private final long queueRetrySeconds;
    private final AtomicInteger open = new AtomicInteger();
    private final Map<UUID, AtomicInteger> openPerTenant = new ConcurrentHashMap<>();
    private volatile boolean closing;

    /**
     * @param kind the problem type's prefix ({@code training} → {@code training-busy})
     * @param jobs how a refusal names the jobs ("training job(s)", "evaluation(s)")
     */
    public JobAdmission(String kind, String jobs, int capacity, int perTenant, long tenantRetrySeconds,
                        long queueRetrySeconds) {
        this.kind = kind;
        this.jobs = jobs;
        this.capacity = capacity;
        this.perTenant = perTenant;
        this.tenantRetrySeconds = tenantRetrySeconds;
        this.queueRetrySeconds = queueRetrySeconds;
    }

    /** Takes a place for the tenant, or refuses: 429 over the tenant's bound, 503 when the node's queue is full. */
    public Future<Void> admit(UUID tenant) {
        if (closing) {
            return Future.failedFuture(new JobsBusyException(kind, "The server is shutting down", false, 5));
        }
        AtomicInteger mine = openPerTenant.computeIfAbsent(tenant, t -> new AtomicInteger());
        if (mine.incrementAndGet() > perTenant) {
            mine.decrementAndGet();
            return Future.failedFuture(new JobsBusyException(kind, "Your organisation already has " + perTenant + " "
                    + jobs + " queued or running; wait for one to end", true, tenantRetrySeconds));
        }
        if (open.incrementAndGet() > capacity) {
            open.decrementAndGet();
            mine.decrementAndGet();
            return Future.failedFuture(new JobsBusyException(kind, "The " + kind + " queue is full", false, queueRetrySeconds));
        }
        return Future.succeededFuture();
    }

    /** Gives back a place {@link #admit} took. */
    public void release(UUID tenant) {
        open.decrementAndGet();
        AtomicInteger mine = openPerTenant.get(tenant);
        if (mine != null) {
            mine.decrementAndGet();
        }
    }

    /** Refuses every later admission (the node is stopping). */
    public void close() {
        closing = true;
    }
}
