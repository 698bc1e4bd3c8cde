package com.modelmarket.marketplace.catalog;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** SQL for alias_splits (V13): an alias' second version and its share. */
final class SplitRepository {

    private static final String FROM = " FROM alias_splits s JOIN model_aliases a ON a.model_id = s.model_id AND a.alias = s.alias "
            + "JOIN model_versions sv ON sv.id = a.version_id JOIN model_versions cv ON cv.id = s.canary_version_id";

    Future<Optional<AliasSplit>> find(SqlClient client, UUID modelId, String alias) {
        return client.preparedQuery("SELECT " + AliasSplit.COLUMNS + FROM + " WHERE s.model_id = $1 AND s.alias = $2")
                .execute(Tuple.of(modelId, alias))
                .map(rows -> CatalogRepository.first(rows).map(AliasSplit::from));
    }

    Future<List<AliasSplit>> ofModel(SqlClient client, UUID modelId) {
        return client.preparedQuery("SELECT " + AliasSplit.COLUMNS + FROM + " WHERE s.model_id = $1 ORDER BY s.alias")
                .execute(Tuple.of(modelId))
                .map(rows -> CatalogRepository.list(rows, AliasSplit::from));
    }

    Future<Void> upsert(SqlClient tx, UUID tenantId, UUID modelId, String alias, UUID canaryVersionId, int percent,
                        AliasSplit.Stickiness stickiness, UUID startedBy) {
        return tx.preparedQuery("INSERT INTO alias_splits (model_id, alias, tenant_id, canary_version_id, canary_percent, stickiness, "
                        + "started_by) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (model_id, alias) DO UPDATE SET "
                        + "canary_version_id = EXCLUDED.canary_version_id, canary_percent = EXCLUDED.canary_percent, "
                        + "stickiness = EXCLUDED.stickiness, started_by = EXCLUDED.started_by, "
                        // a new canary starts a new split; a new share or stickiness continues the same one
                        + "started_at = CASE WHEN alias_splits.canary_version_id = EXCLUDED.canary_version_id "
                        + "THEN alias_splits.started_at ELSE now() END")
                .execute(Tuple.from(new Object[] {modelId, alias, tenantId, canaryVersionId, percent, stickiness.wire(), startedBy}))
                .mapEmpty();
    }

    Future<Boolean> delete(SqlClient tx, UUID modelId, String alias) {
        return tx.preparedQuery("DELETE FROM alias_splits WHERE model_id = $1 AND alias = $2")
                .execute(Tuple.of(modelId, alias))
                .map(rows -> rows.rowCount() > 0);
    }

    /** The aliases whose split sends calls to this version. */
    Future<List<String>> canaryOf(SqlClient client, UUID versionId) {
        return client.preparedQuery("SELECT alias FROM alias_splits WHERE canary_version_id = $1 ORDER BY alias")
                .execute(Tuple.of(versionId))
                .map(rows -> CatalogRepository.list(rows, r -> r.getString(0)));
    }

    /**
     * The caller tenant's side in the split (true: the canary), assigned on its first call: the
     * canary while the tenants assigned so far fall short of its share ({@code canary × 100 <
     * percent × all}), else the stable side. Empty if the alias has no split (any more). Runs in the
     * platform's scope: the members of a split are no tenant's to read.
     */
    Future<Optional<Boolean>> side(SqlClient client, UUID modelId, String alias, UUID tenantId) {
        return client.preparedQuery("WITH split AS (SELECT canary_version_id, canary_percent FROM alias_splits "
                        + "WHERE model_id = $1 AND alias = $2), "
                        + "mine AS (SELECT m.canary FROM alias_split_members m JOIN split s ON m.canary_version_id = s.canary_version_id "
                        + "WHERE m.model_id = $1 AND m.alias = $2 AND m.tenant_id = $3), "
                        + "counts AS (SELECT count(*) AS n, count(*) FILTER (WHERE m.canary) AS c FROM alias_split_members m "
                        + "JOIN split s ON m.canary_version_id = s.canary_version_id WHERE m.model_id = $1 AND m.alias = $2), "
                        + "chosen AS (INSERT INTO alias_split_members (model_id, alias, tenant_id, canary_version_id, canary) "
                        + "SELECT $1, $2, $3, s.canary_version_id, counts.c * 100 < s.canary_percent * counts.n FROM split s, counts "
                        + "WHERE NOT EXISTS (SELECT 1 FROM mine) "
                        + "ON CONFLICT (model_id, alias, tenant_id) DO UPDATE SET canary_version_id = EXCLUDED.canary_version_id, "
                        + "canary = EXCLUDED.canary, assigned_at = clock_timestamp() "
                        + "WHERE alias_split_members.canary_version_id <> EXCLUDED.canary_version_id RETURNING canary) "
                        + "SELECT canary FROM mine UNION ALL SELECT canary FROM chosen")
                .execute(Tuple.of(modelId, alias, tenantId))
                .compose(rows -> {
                    if (rows.size() > 0) {
                        return Future.succeededFuture(Optional.of(rows.iterator().next().getBoolean(0)));
                    }
                    // no split, or another node assigned this tenant at the same moment: read what it chose
                    return client.preparedQuery("SELECT m.canary FROM alias_split_members m JOIN alias_splits s "
                                    + "ON s.model_id = m.model_id AND s.alias = m.alias AND s.canary_version_id = m.canary_version_id "
                                    + "WHERE m.model_id = $1 AND m.alias = $2 AND m.tenant_id = $3")
                            .execute(Tuple.of(modelId, alias, tenantId))
                            .map(again -> again.size() == 0 ? Optional.<Boolean>empty()
                                    : Optional.of(again.iterator().next().getBoolean(0)));
                });
    }

    /**
     * After the share changed: moves the fewest tenants needed to bring the assigned ones to the new
     * share — stable ones onto the canary (earliest assigned first) when it rose, canary ones back
     * (latest assigned first) when it fell. In the platform's scope, in the transaction that changed it.
     */
    Future<Void> rebalance(SqlClient tx, UUID modelId, String alias) {
        return tx.preparedQuery("WITH split AS (SELECT canary_version_id, canary_percent FROM alias_splits "
                        + "WHERE model_id = $1 AND alias = $2), "
                        + "counts AS (SELECT count(*) AS n, count(*) FILTER (WHERE m.canary) AS c FROM alias_split_members m "
                        + "JOIN split s ON m.canary_version_id = s.canary_version_id WHERE m.model_id = $1 AND m.alias = $2), "
                        + "target AS (SELECT ceil(s.canary_percent * counts.n / 100.0)::bigint AS k, counts.c FROM split s, counts), "
                        + "up AS (SELECT m.tenant_id FROM alias_split_members m JOIN split s ON m.canary_version_id = s.canary_version_id "
                        + "WHERE m.model_id = $1 AND m.alias = $2 AND NOT m.canary ORDER BY m.assigned_at, m.tenant_id "
                        + "LIMIT (SELECT greatest(k - c, 0) FROM target)), "
                        + "down AS (SELECT m.tenant_id FROM alias_split_members m JOIN split s ON m.canary_version_id = s.canary_version_id "
                        + "WHERE m.model_id = $1 AND m.alias = $2 AND m.canary ORDER BY m.assigned_at DESC, m.tenant_id "
                        + "LIMIT (SELECT greatest(c - k, 0) FROM target)) "
                        + "UPDATE alias_split_members m SET canary = m.tenant_id IN (SELECT tenant_id FROM up) "
                        + "WHERE m.model_id = $1 AND m.alias = $2 "
                        + "AND (m.tenant_id IN (SELECT tenant_id FROM up) OR m.tenant_id IN (SELECT tenant_id FROM down))")
                .execute(Tuple.of(modelId, alias))
                .mapEmpty();
    }
}
