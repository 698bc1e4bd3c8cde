package com.modelmarket.marketplace.metering;

import com.modelmarket.billing.metering.UsageCommit;
import com.modelmarket.billing.metering.UsageOutcome;
import com.modelmarket.billing.metering.UsageRecord;
import com.modelmarket.billing.metering.UsageSink;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * Writes usage commits into {@code usage_rollups} and {@code usage_daily}, counting each commit once (migrations V9, V18). One
 * statement per batch: the batch's commits go into {@code usage_commits}, a row per commit and
 * tenant with that tenant's request ids (ON CONFLICT DO NOTHING),
 * and only the calls of the commits that were new there are added into the rollups (per
 * {@link UsageBuckets bucket}), so a
 * commit delivered twice counts once. The calls are added up per (commit, rollup key) here first, so
 * PostgreSQL gets a few rows per commit instead of one per call. Legacy commits (journal files of an
 * earlier version, without commit ids) are deduplicated by request id against
 * {@code usage_records_v1} instead. A batch mixes tenants, so it is written in the system scope.
 *
 * <p>The sink has a connection of its own, outside the pool, set to the system scope once for its
 * session and used for nothing but these statements: a batch is then one round trip in autocommit,
 * not the four of a scoped transaction from the pool (BEGIN, scope, INSERT, COMMIT). Under a
 * saturated node each round trip waits behind the event loops' other work, and four of them let the
 * meter fall behind. A broken connection is dropped and the next write opens a new one; the meter
 * journals what failed meanwhile.
 */
public final class PgUsageSink implements UsageSink {

    /** For the sink's session: it writes rows of every tenant (row-level security, migration V5). */
    private static final String SYSTEM_SCOPE = "SELECT set_config('mm.scope', 'system', false)";

    private static final String NIL = "'00000000-0000-0000-0000-000000000000'::uuid";
    private static final String COLUMNS = "(tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, ";
    private static final String KEY = "tenant_id, model_id, version_id, (coalesce(subscription_id, " + NIL
            + ")), (coalesce(api_key_id, " + NIL + ")), outcome, ";
    private static final String ADD = " DO UPDATE SET calls = u.calls + excluded.calls, "
            + "items = u.items + excluded.items, compute_nanos = u.compute_nanos + excluded.compute_nanos, updated_at = now()";

    /**
     * The tail of both statements: {@code agg} (the new calls per bucket key) added into the bucket
     * rollups and, per UTC day, into {@code usage_daily} (migration V18), in the same statement as
     * the commits they belong to, so both tables count each commit once.
     */
    private static final String ADD_INTO_ROLLUPS = ", minute AS (INSERT INTO usage_rollups AS u " + COLUMNS
            + "bucket, calls, items, compute_nanos) SELECT * FROM agg ON CONFLICT (" + KEY + "bucket)" + ADD + ") "
            + "INSERT INTO usage_daily AS u " + COLUMNS + "day, calls, items, compute_nanos) "
            + "SELECT tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, (bucket AT TIME ZONE 'UTC')::date, "
            + "sum(calls)::bigint, sum(items)::bigint, sum(compute_nanos)::bigint FROM agg GROUP BY 1, 2, 3, 4, 5, 6, 7 "
            + "ON CONFLICT (" + KEY + "day)" + ADD;

    private static final String WRITE_COMMITS = "WITH fresh AS (INSERT INTO usage_commits (commit_id, tenant_id, records, request_ids) "
            + "SELECT * FROM unnest($1::uuid[], $15::uuid[], $2::int[], $3::text[]) ON CONFLICT (commit_id, tenant_id) DO NOTHING "
            + "RETURNING commit_id, tenant_id), agg AS ("
            + "SELECT r.tenant_id, r.model_id, r.version_id, r.subscription_id, r.api_key_id, r.outcome, r.bucket, "
            + "sum(r.calls)::bigint AS calls, sum(r.items)::bigint AS items, sum(r.compute_nanos)::bigint AS compute_nanos "
            + "FROM unnest($4::uuid[], $5::uuid[], $6::uuid[], $7::uuid[], $8::uuid[], $9::uuid[], $10::text[], "
            + "$11::timestamptz[], $12::bigint[], $13::bigint[], $14::bigint[]) "
            + "AS r(commit_id, tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, bucket, calls, items, compute_nanos) "
            + "WHERE (r.commit_id, r.tenant_id) IN (SELECT commit_id, tenant_id FROM fresh) GROUP BY 1, 2, 3, 4, 5, 6, 7)"
            + ADD_INTO_ROLLUPS;

    private static final String WRITE_LEGACY = "WITH fresh AS (INSERT INTO usage_records_v1 (request_id, tenant_id, api_key_id, "
            + "subscription_id, model_id, version_id, items, compute_nanos, outcome, occurred_at) "
            + "SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::int[], "
            + "$8::bigint[], $9::text[], $10::timestamptz[]) ON CONFLICT (request_id) DO NOTHING RETURNING *), agg AS ("
            + "SELECT tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, "
            + "BUCKET_OF_OCCURRED_AT AS bucket, count(*)::bigint AS calls, sum(items)::bigint AS items, "
            + "sum(compute_nanos)::bigint AS compute_nanos FROM fresh GROUP BY 1, 2, 3, 4, 5, 6, 7)" + ADD_INTO_ROLLUPS;

    private final Vertx vertx;
    private final PgConnectOptions options;
    private final UsageBuckets buckets;
    private final String writeLegacy;
    // The meter writes one batch at a time, from its own context; a write it gave up on may still
    // be running, and the next one queues behind it on the same connection.
    private Future<PgConnection> connection;
    private boolean closed;

    public PgUsageSink(Vertx vertx, PgConnectOptions options, UsageBuckets buckets) {
        this.vertx = vertx;
        this.options = options;
        this.buckets = buckets;
        this.writeLegacy = WRITE_LEGACY.replace("BUCKET_OF_OCCURRED_AT", buckets.floorSql("occurred_at"));
    }

    @Override
    public Future<Void> write(List<UsageCommit> commits) {
        List<UsageCommit> current = new ArrayList<>(commits.size());
        List<UsageRecord> legacy = new ArrayList<>();
        for (UsageCommit c : commits) {
            if (c.legacy()) {
                legacy.addAll(c.records());
            } else if (c.size() > 0) {
                current.add(c);
            }
        }
        Future<Void> written = current.isEmpty() ? Future.succeededFuture() : execute(WRITE_COMMITS, commitsTuple(current));
        return legacy.isEmpty() ? written : written.compose(v -> execute(writeLegacy, legacyTuple(legacy)));
    }

    private Future<Void> execute(String sql, Tuple args) {
        Future<PgConnection> current = connection();
        return current.compose(c -> c.preparedQuery(sql).execute(args))
                .onFailure(err -> drop(current))
                .mapEmpty();
    }

    /** One rollup key of one commit. */
    private record Key(int commit, UUID tenant, UUID model, UUID version, UUID subscription, UUID apiKey,
                       UsageOutcome outcome, long bucket) {
    }

    /** The log row of one commit and tenant: the tenant's request ids in the commit, one a line. */
    private static final class LogRow {
        final StringBuilder ids = new StringBuilder();
        int records;
    }

    private Tuple commitsTuple(List<UsageCommit> commits) {
        Map<Key, long[]> sums = new HashMap<>();
        List<UUID> logCommits = new ArrayList<>();
        List<UUID> logTenants = new ArrayList<>();
        List<Integer> logCounts = new ArrayList<>();
        List<String> logIds = new ArrayList<>();
        UUID[] ids = new UUID[commits.size()];
        Map<UUID, LogRow> perTenant = new HashMap<>();
        for (int i = 0; i < commits.size(); i++) {
            UsageCommit c = commits.get(i);
            ids[i] = c.id();
            perTenant.clear();
            for (UsageRecord r : c.records()) {
                LogRow log = perTenant.computeIfAbsent(r.tenantId(), t -> new LogRow());
                if (log.records++ > 0) {
                    log.ids.append('\n');
                }
                log.ids.append(r.requestId());
                long bucket = buckets.floor(r.occurredAt());
                long[] sum = sums.computeIfAbsent(new Key(i, r.tenantId(), r.modelId(), r.modelVersionId(), r.subscriptionId(),
                        r.apiKeyId(), r.outcome(), bucket), k -> new long[3]);
                sum[0]++;
                sum[1] += r.items();
                sum[2] += r.computeNanos();
            }
            for (Map.Entry<UUID, LogRow> e : perTenant.entrySet()) {
                logCommits.add(c.id());
                logTenants.add(e.getKey());
                logCounts.add(e.getValue().records);
                logIds.add(e.getValue().ids.toString());
            }
        }
        int m = sums.size();
        UUID[] commitOf = new UUID[m];
        UUID[] tenants = new UUID[m];
        UUID[] models = new UUID[m];
        UUID[] versions = new UUID[m];
        UUID[] subscriptions = new UUID[m];
        UUID[] keys = new UUID[m];
        String[] outcomes = new String[m];
        OffsetDateTime[] bucketStarts = new OffsetDateTime[m];
        Long[] calls = new Long[m];
        Long[] items = new Long[m];
        Long[] compute = new Long[m];
        int j = 0;
        for (Map.Entry<Key, long[]> e : sums.entrySet()) {
            Key k = e.getKey();
            commitOf[j] = ids[k.commit()];
            tenants[j] = k.tenant();
            models[j] = k.model();
            versions[j] = k.version();
            subscriptions[j] = k.subscription();
            keys[j] = k.apiKey();
            outcomes[j] = stored(k.outcome());
            bucketStarts[j] = OffsetDateTime.ofInstant(Instant.ofEpochSecond(k.bucket()), ZoneOffset.UTC);
            calls[j] = e.getValue()[0];
            items[j] = e.getValue()[1];
            compute[j] = e.getValue()[2];
            j++;
        }
        return Tuple.from(new Object[] {logCommits.toArray(new UUID[0]), logCounts.toArray(new Integer[0]),
                logIds.toArray(new String[0]), commitOf, tenants, models, versions, subscriptions, keys, outcomes, bucketStarts,
                calls, items, compute, logTenants.toArray(new UUID[0])});
    }

    private static Tuple legacyTuple(List<UsageRecord> records) {
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
        OffsetDateTime[] at = new OffsetDateTime[n];
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
            outcomes[i] = stored(r.outcome());
            at[i] = r.occurredAt().atOffset(ZoneOffset.UTC);
        }
        return Tuple.from(new Object[] {ids, tenants, keys, subscriptions, models, versions, items, compute, outcomes, at});
    }

    private static String stored(UsageOutcome outcome) {
        return outcome.name().toLowerCase(Locale.ROOT);
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
