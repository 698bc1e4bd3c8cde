package com.modelmarket.marketplace.gates;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.Optional;
import java.util.UUID;

/** SQL for model_gates (V13). */
final class GateRepository {

    Future<Optional<GateSettings>> find(SqlClient client, UUID tenantId, UUID modelId) {
        return client.preparedQuery("SELECT schema_check, metric_gates FROM model_gates WHERE model_id = $1 AND tenant_id = $2")
                .execute(Tuple.of(modelId, tenantId))
                .map(rows -> {
                    var it = rows.iterator();
                    if (!it.hasNext()) {
                        return Optional.empty();
                    }
                    var r = it.next();
                    return Optional.of(GateSettings.fromStored(r.getBoolean(0), (JsonArray) r.getValue(1)));
                });
    }

    Future<Void> upsert(SqlClient tx, UUID tenantId, UUID modelId, GateSettings settings, UUID userId) {
        return tx.preparedQuery("INSERT INTO model_gates (model_id, tenant_id, schema_check, metric_gates, updated_by) "
                        + "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (model_id) DO UPDATE SET schema_check = EXCLUDED.schema_check, "
                        + "metric_gates = EXCLUDED.metric_gates, updated_by = EXCLUDED.updated_by, updated_at = now()")
                .execute(Tuple.of(modelId, tenantId, settings.schemaCheck(), settings.toJson().getJsonArray("metrics"), userId))
                .mapEmpty();
    }
}
