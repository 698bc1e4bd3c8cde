package com.modelmarket.marketplace.inference;

import com.modelmarket.marketplace.db.TenantScope;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowIterator;
import io.vertx.sqlclient.Tuple;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * The cluster's free-plan counters ({@code free_quota_counters}, migration V14): a month's counter
 * is seeded once from the usage stored for the month, then every call takes one with a conditional
 * UPDATE under the row's lock, so however many API nodes ask at once, at most the cap succeed.
 */
final class FreeQuotaRepository {

    private final Pool pool;

    FreeQuotaRepository(Pool pool) {
        this.pool = pool;
    }

    /** Takes one call if fewer than {@code cap} are used: the new count, or empty when the cap is reached. */
    Future<OptionalLong> take(UUID tenantId, UUID modelId, LocalDate month, long cap) {
        OffsetDateTime start = month.atStartOfDay().atOffset(ZoneOffset.UTC);
        return TenantScope.tenant(pool, tenantId, c -> c.preparedQuery(
                        "INSERT INTO free_quota_counters (tenant_id, model_id, month, used) "
                                + "SELECT $1, $2, $3, coalesce(sum(calls), 0) FROM usage_rollups "
                                + "WHERE tenant_id = $1 AND model_id = $2 AND bucket >= $4 "
                                + "ON CONFLICT (tenant_id, model_id, month) DO NOTHING")
                .execute(Tuple.of(tenantId, modelId, month, start))
                .compose(seeded -> c.preparedQuery("UPDATE free_quota_counters SET used = used + 1 "
                                + "WHERE tenant_id = $1 AND model_id = $2 AND month = $3 AND used < $4 RETURNING used")
                        .execute(Tuple.of(tenantId, modelId, month, cap)))
                .map(rows -> {
                    RowIterator<Row> it = rows.iterator();
                    return it.hasNext() ? OptionalLong.of(it.next().getLong(0)) : OptionalLong.empty();
                }));
    }

    /** Gives one call back (it never reached the model). */
    Future<Void> giveBack(UUID tenantId, UUID modelId, LocalDate month) {
        return TenantScope.tenant(pool, tenantId, c -> c.preparedQuery("UPDATE free_quota_counters SET used = greatest(used - 1, 0) "
                        + "WHERE tenant_id = $1 AND model_id = $2 AND month = $3")
                .execute(Tuple.of(tenantId, modelId, month)).mapEmpty());
    }
}
