package com.modelmarket.marketplace.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;

/**
 * The scope in which the database's row-level security lets a unit of work see rows: the second
 * wall under every repository's own {@code tenant_id} filter (migration V5). Each unit runs in a
 * transaction whose first statement sets {@code mm.scope} and {@code mm.tenant_id} locally, so
 * nothing carries over to the next user of the pooled connection; work outside any scope sees no
 * tenant rows at all.
 *
 * <ul>
 *   <li>{@link #tenant}: one tenant's rows (and the catalog rows it may see);</li>
 *   <li>{@link #visitor}: an anonymous caller, who sees public catalog rows only;</li>
 *   <li>{@link #system}: every row, for the few operations that are cross-tenant by nature (login
 *       by e-mail, key and refresh-token lookup by hash, the usage meter, closing billing periods,
 *       publishers' earnings, deleting a tenant). Keep these few and their SQL explicit.</li>
 * </ul>
 */
public final class TenantScope {

    /** The NOLOGIN role the application's pool acts as (created by migration V5). */
    public static final String APP_ROLE = "mm_app";

    private static final String SET = "SELECT set_config('mm.scope', $1, true), set_config('mm.tenant_id', $2, true)";

    private TenantScope() {
    }

    /** Runs {@code work} in a transaction that sees the rows of {@code tenantId}. */
    public static <T> Future<T> tenant(Pool pool, UUID tenantId, Function<SqlConnection, Future<T>> work) {
        Objects.requireNonNull(tenantId, "tenantId");
        return run(pool, "tenant", tenantId.toString(), work);
    }

    /** As {@link #tenant}, or as an anonymous {@link #visitor} when {@code tenantOrNull} is null. */
    public static <T> Future<T> tenantOrVisitor(Pool pool, UUID tenantOrNull, Function<SqlConnection, Future<T>> work) {
        return tenantOrNull == null ? visitor(pool, work) : tenant(pool, tenantOrNull, work);
    }

    /** Runs {@code work} in a transaction that sees public catalog rows only. */
    public static <T> Future<T> visitor(Pool pool, Function<SqlConnection, Future<T>> work) {
        return run(pool, "visitor", "", work);
    }

    /** Runs {@code work} in a transaction that sees every tenant's rows: cross-tenant operations only. */
    public static <T> Future<T> system(Pool pool, Function<SqlConnection, Future<T>> work) {
        return run(pool, "system", "", work);
    }

    /** Moves a transaction already under way into the scope of {@code tenantId} (after sign-up creates it). */
    public static Future<Void> enter(SqlClient tx, UUID tenantId) {
        return tx.preparedQuery(SET).execute(Tuple.of("tenant", tenantId.toString())).mapEmpty();
    }

    /**
     * Moves a transaction already under way into the platform's scope, for one cross-tenant step of
     * an operation a tenant started (rebalancing a split's members); {@link #enter} the tenant again
     * right after it.
     */
    public static Future<Void> enterSystem(SqlClient tx) {
        return tx.preparedQuery(SET).execute(Tuple.of("system", "")).mapEmpty();
    }

    private static <T> Future<T> run(Pool pool, String scope, String tenant, Function<SqlConnection, Future<T>> work) {
        return pool.withTransaction(conn -> {
            // Sent without waiting: the connection runs its commands in order, so the work's first
            // statement (pipelined right behind) already sees the scope, and a lost setting can only
            // hide rows, never show more.
            Future<?> scoped = conn.preparedQuery(SET).execute(Tuple.of(scope, tenant));
            Future<T> result;
            try {
                result = work.apply(conn);
            } catch (RuntimeException e) {
                result = Future.failedFuture(e);
            }
            Future<T> done = result;
            return Future.join(scoped, done).transform(ar -> scoped.failed()
                    ? Future.<T>failedFuture(scoped.cause()) : done);
        });
    }
}
