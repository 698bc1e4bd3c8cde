package com.modelmarket.marketplace.catalog;

import com.modelmarket.marketplace.db.TenantScope;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A generation number that moves whenever the catalog, its plans or a subscription changes on
 * this node: caches of resolved inference targets compare it to drop stale entries at once. It
 * moves before a change's transaction and again after it ends, so a lookup that raced with the
 * change cannot keep the old state under the new number.
 */
public final class CatalogChanges {

    private final AtomicLong generation = new AtomicLong();
    /** Told after every change made on this node ends (the cluster publishes it to the other nodes). */
    private final java.util.List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public long current() {
        return generation.get();
    }

    /** Runs a change in a transaction scoped to the changing tenant ({@link TenantScope#tenant}). */
    public <T> Future<T> inTransaction(Pool pool, UUID tenantId, Function<SqlConnection, Future<T>> work) {
        generation.incrementAndGet();
        return TenantScope.tenant(pool, tenantId, work).andThen(ar -> {
            generation.incrementAndGet();
            listeners.forEach(Runnable::run);
        });
    }

    /** Calls {@code listener} after every change made on this node. */
    public void onChange(Runnable listener) {
        listeners.add(listener);
    }

    /** A change made on another node of the cluster: caches compared to the generation drop their entries. */
    public void changedElsewhere() {
        generation.incrementAndGet();
    }
}
