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
}
