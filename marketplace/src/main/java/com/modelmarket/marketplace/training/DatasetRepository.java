package com.modelmarket.marketplace.training;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** The {@code datasets} table; every statement is filtered by the caller's tenant. */
final class DatasetRepository {

    Future<Dataset> insert(SqlClient tx, UUID tenantId, String name, String sha256, long size, String task, String label,
                           int rows, JsonObject summary, UUID createdBy) {
        return tx.preparedQuery("INSERT INTO datasets AS d (tenant_id, name, sha256, size_bytes, task, label_column, row_count, "
                        + "summary, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING " + Dataset.COLUMNS)
                .execute(Tuple.from(new Object[] {tenantId, name, sha256, size, task, label, rows, summary, createdBy}))
                .map(r -> Dataset.from(r.iterator().next()));
    }

    Future<Optional<Dataset>> find(SqlClient c, UUID tenantId, UUID id) {
        return c.preparedQuery("SELECT " + Dataset.COLUMNS + " FROM datasets d WHERE d.tenant_id = $1 AND d.id = $2")
                .execute(Tuple.of(tenantId, id))
                .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(Dataset.from(rows.iterator().next())));
    }

    Future<List<Dataset>> list(SqlClient c, UUID tenantId) {
        return c.preparedQuery("SELECT " + Dataset.COLUMNS + " FROM datasets d WHERE d.tenant_id = $1 ORDER BY d.created_at DESC, d.id")
                .execute(Tuple.of(tenantId))
                .map(rows -> {
                    List<Dataset> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(Dataset.from(r));
                    }
                    return out;
                });
    }

    Future<Boolean> delete(SqlClient tx, UUID tenantId, UUID id) {
        return tx.preparedQuery("DELETE FROM datasets WHERE tenant_id = $1 AND id = $2").execute(Tuple.of(tenantId, id))
                .map(r -> r.rowCount() > 0);
    }
}
