package com.modelmarket.marketplace.metering;

import com.modelmarket.billing.metering.UsageRecord;
import com.modelmarket.billing.metering.UsageSink;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

/**
 * Writes usage batches to {@code usage_records} in one multi-row statement (arrays unnested), so a
 * batch costs one statement. Idempotent: a request id already stored is skipped. A batch mixes
 * tenants, so it is written in the system scope.
 *
 * <p>The sink has a connection of its own, outside the pool, set to the system scope once for its
 * session and used for nothing but this INSERT: a batch is then one round trip in autocommit, not
 * the four of a scoped transaction from the pool (BEGIN, scope, INSERT, COMMIT). Under a saturated
 * node each round trip waits behind the event loops' other work, and four of them let the meter
 * fall behind. A broken connection is dropped and the next write opens a new one; the meter
 * journals what failed meanwhile.
 */
public final class PgUsageSink implements UsageSink {

    /** For the sink's session: it writes rows of every tenant (row-level security, migration V5). */
    private static final String SYSTEM_SCOPE = "SELECT set_config('mm.scope', 'system', false)";

    private static final String INSERT = "INSERT INTO usage_records (request_id, tenant_id, api_key_id, subscription_id, "
            + "model_id, version_id, items, compute_nanos, outcome, occurred_at) "
            + "SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::int[], "
            + "$8::bigint[], $9::text[], $10::timestamptz[]) ON CONFLICT (request_id) DO NOTHING";

    private final Vertx vertx;
    private final PgConnectOptions options;
    // The meter writes one batch at a time, from its own context; a write it gave up on may still
    // be running, and the next one queues behind it on the same connection.
    private Future<PgConnection> connection;
    private boolean closed;

    public PgUsageSink(Vertx vertx, PgConnectOptions options) {
        this.vertx = vertx;
        this.options = options;
    }

    @Override
    public Future<Void> write(List<UsageRecord> records) {
        if (records.isEmpty()) {
            return Future.succeededFuture();
        }
        int n = records.size();
        String[] ids = new String[n];
        UUID[] tenants = new UUID[n];
        UUID[] keys = new UUID[n];
        UUID[] subscriptions = new UUID[n];
        UUID[] models = new UUID[n];
        UUID[] versions = new UUID[n];
        Integer[] items = new Integer[n];
        Long[] compute = new Long[n];
        String[] outcomes = new String[n];
        java.time.OffsetDateTime[] at = new java.time.OffsetDateTime[n];
        for (int i = 0; i < n; i++) {
            UsageRecord r = records.get(i);
            ids[i] = r.requestId();
            tenants[i] = r.tenantId();
            keys[i] = r.apiKeyId();
            subscriptions[i] = r.subscriptionId();
            models[i] = r.modelId();
            versions[i] = r.modelVersionId();
            items[i] = r.items();
            compute[i] = r.computeNanos();
            outcomes[i] = r.outcome().name().toLowerCase(java.util.Locale.ROOT);
            at[i] = r.occurredAt().atOffset(ZoneOffset.UTC);
        }
        Tuple batch = Tuple.from(new Object[] {ids, tenants, keys, subscriptions, models, versions, items, compute,
                outcomes, at});
        Future<PgConnection> current = connection();
        return current.compose(c -> c.preparedQuery(INSERT).execute(batch))
                .onFailure(err -> drop(current))
                .mapEmpty();
    }

    private synchronized Future<PgConnection> connection() {
        if (closed) {
            return Future.failedFuture(new IllegalStateException("the usage sink is closed"));
        }
        if (connection == null) {
            Future<PgConnection> opening = PgConnection.connect(vertx, options)
                    .compose(c -> c.query(SYSTEM_SCOPE).execute().map(c)
                            .onFailure(err -> c.close()));
            connection = opening;
            opening.onSuccess(c -> c.closeHandler(v -> drop(opening)));
            opening.onFailure(err -> drop(opening));
        }
        return connection;
    }

    /** Forgets a connection that failed or closed, so that the next write opens a new one. */
    private synchronized void drop(Future<PgConnection> failed) {
        if (connection == failed) {
            connection = null;
            failed.onSuccess(c -> c.close());
        }
    }

    /** Closes the sink's connection; call after the meter has flushed. */
    public Future<Void> close() {
        Future<PgConnection> current;
        synchronized (this) {
            closed = true;
            current = connection;
            connection = null;
        }
        return current == null ? Future.succeededFuture()
                : current.compose(c -> c.close()).otherwise(x -> null).mapEmpty();
    }
}
