package com.modelmarket.marketplace.catalog;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/** SQL for {@code uploads}: which tenant uploaded which bytes of the shared, content-addressed store. */
final class UploadRepository {

    /** Records that {@code tenantId} uploaded {@code sha256}; uploading the same bytes again changes nothing. */
    Future<Void> record(SqlClient client, UUID tenantId, String sha256, long sizeBytes, UUID uploadedBy) {
        return client.preparedQuery("INSERT INTO uploads (tenant_id, sha256, size_bytes, uploaded_by) VALUES ($1, $2, $3, $4) "
                        + "ON CONFLICT (tenant_id, sha256) DO NOTHING")
                .execute(Tuple.of(tenantId, sha256, sizeBytes, uploadedBy))
                .mapEmpty();
    }

    /** Whether {@code tenantId} uploaded {@code sha256} itself. */
    Future<Boolean> owns(SqlClient client, UUID tenantId, String sha256) {
        return client.preparedQuery("SELECT 1 FROM uploads WHERE tenant_id = $1 AND sha256 = $2")
                .execute(Tuple.of(tenantId, sha256))
                .map(rows -> rows.size() > 0);
    }
}
