package com.modelmarket.marketplace.metering;

import com.modelmarket.billing.metering.UsageRecord;
import com.modelmarket.billing.metering.UsageSink;
import com.modelmarket.marketplace.db.TenantScope;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

/**
 * Writes usage batches to {@code usage_records} in one multi-row statement (arrays unnested), so a
 * batch costs one statement. Idempotent: a request id already stored is skipped. A batch mixes
 * tenants, so it is written in the system scope.
 */
public final class PgUsageSink implements UsageSink {

    private static final String INSERT = "INSERT INTO usage_records (request_id, tenant_id, api_key_id, subscription_id, "
            + "model_id, version_id, items, compute_nanos, outcome, occurred_at) "
            + "SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::int[], "
            + "$8::bigint[], $9::text[], $10::timestamptz[]) ON CONFLICT (request_id) DO NOTHING";

    private final Pool pool;

    public PgUsageSink(Pool pool) {
        this.pool = pool;
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
        return TenantScope.system(pool, c -> c.preparedQuery(INSERT).execute(batch)).mapEmpty();
    }
}
