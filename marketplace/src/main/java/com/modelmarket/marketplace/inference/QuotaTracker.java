package com.modelmarket.marketplace.inference;

import com.modelmarket.marketplace.invoicing.UsageQueries;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Free plans' monthly hard cap: calls per tenant, model and calendar month (UTC). On a single node
 * the count starts from the metered usage already stored for the month and is then kept in memory,
 * so the hot path reads the database once per tenant, model and month. In a cluster ({@link
 * #shared}) every call takes one from a counter in PostgreSQL instead, exact across API nodes at the
 * cost of one short transaction per free-plan call.
 */
public final class QuotaTracker {

    private final UsageQueries usage;
    private final Clock clock;
    private final ConcurrentHashMap<String, Future<AtomicLong>> counters = new ConcurrentHashMap<>();
    /** The cluster-wide counters; null on a single node. */
    private final FreeQuotaRepository shared;

    public QuotaTracker(UsageQueries usage, Clock clock) {
        this(usage, clock, null);
    }

    private QuotaTracker(UsageQueries usage, Clock clock, FreeQuotaRepository shared) {
        this.usage = usage;
        this.clock = clock;
        this.shared = shared;
    }

    /** Caps counted in the database, exact however many API nodes share them. */
    public static QuotaTracker shared(UsageQueries usage, io.vertx.sqlclient.Pool pool, Clock clock) {
        return new QuotaTracker(usage, clock, new FreeQuotaRepository(pool));
    }

    /** The outcome of taking one call from a quota. */
    public record Decision(boolean allowed, long used, long cap, Instant resetAt) {
    }

    public Future<Decision> acquire(UUID tenantId, UUID modelId, long cap) {
        YearMonth month = YearMonth.now(clock.withZone(ZoneOffset.UTC));
        Instant start = month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        Instant reset = month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        if (shared != null) {
            return shared.take(tenantId, modelId, month.atDay(1), cap).map(used -> used.isPresent()
                    ? new Decision(true, used.getAsLong(), cap, reset) : new Decision(false, cap, cap, reset));
        }
        String key = tenantId + "/" + modelId + "/" + month;
        Future<AtomicLong> counter = counters.computeIfAbsent(key, k -> usage.countSince(tenantId, modelId, start).map(AtomicLong::new));
        return counter.transform(ar -> {
            if (ar.failed()) {
                counters.remove(key, counter);
                return Future.failedFuture(ar.cause());
            }
            AtomicLong used = ar.result();
            while (true) {
                long now = used.get();
                if (now >= cap) {
                    return Future.succeededFuture(new Decision(false, now, cap, reset));
                }
                if (used.compareAndSet(now, now + 1)) {
                    return Future.succeededFuture(new Decision(true, now + 1, cap, reset));
                }
            }
        });
    }

    /** Gives back a call that was taken but never reached the model. */
    public void release(UUID tenantId, UUID modelId) {
        if (shared != null) {
            shared.giveBack(tenantId, modelId, YearMonth.now(clock.withZone(ZoneOffset.UTC)).atDay(1)); // best effort
            return;
        }
        String key = tenantId + "/" + modelId + "/" + YearMonth.now(clock.withZone(ZoneOffset.UTC));
        Future<AtomicLong> counter = counters.get(key);
        if (counter != null && counter.succeeded()) {
            counter.result().updateAndGet(v -> Math.max(0, v - 1));
        }
    }
}
