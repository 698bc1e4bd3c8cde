package com.modelmarket.marketplace.apikeys;

import com.modelmarket.marketplace.db.TenantScope;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** SQL for API keys: tenant-scoped, except the lookup by keyed hash that authenticates a call. */
final class ApiKeyRepository {

    private final Pool pool;

    ApiKeyRepository(Pool pool) {
        this.pool = pool;
    }

    Future<ApiKey> insert(io.vertx.sqlclient.SqlClient client, UUID tenantId, UUID createdBy, String name, String prefix, String lastFour,
                          byte[] secretHash, List<String> scopes, OffsetDateTime expiresAt) {
        return client.preparedQuery("INSERT INTO api_keys (tenant_id, created_by, name, prefix, last_four, secret_hash, "
                        + "scopes, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING " + ApiKey.COLUMNS)
                .execute(Tuple.of(tenantId, createdBy, name, prefix, lastFour, Buffer.buffer(secretHash),
                        scopes.toArray(new String[0]), expiresAt))
                .map(rows -> ApiKey.from(rows.iterator().next()));
    }

    Future<List<ApiKey>> list(UUID tenantId) {
        return TenantScope.tenant(pool, tenantId, c -> c.preparedQuery("SELECT " + ApiKey.COLUMNS
                        + " FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id")
                .execute(Tuple.of(tenantId))
                .map(rows -> {
                    List<ApiKey> keys = new ArrayList<>();
                    rows.forEach(r -> keys.add(ApiKey.from(r)));
                    return keys;
                }));
    }

    Future<Optional<ApiKey>> find(UUID tenantId, UUID id) {
        return TenantScope.tenant(pool, tenantId, c -> c.preparedQuery("SELECT " + ApiKey.COLUMNS
                        + " FROM api_keys WHERE tenant_id = $1 AND id = $2")
                .execute(Tuple.of(tenantId, id))
                .map(rows -> first(rows.iterator())));
    }

    /** Marks a key revoked; empty when the tenant has no such key. */
    Future<Optional<ApiKey>> revoke(io.vertx.sqlclient.SqlClient client, UUID tenantId, UUID id) {
        return client.preparedQuery("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) "
                        + "WHERE tenant_id = $1 AND id = $2 RETURNING " + ApiKey.COLUMNS)
                .execute(Tuple.of(tenantId, id))
                .map(rows -> first(rows.iterator()));
    }

    /** The live key with this keyed hash, of a live tenant: across tenants (the key names its tenant), so the system scope. */
    Future<Optional<ApiKey>> findUsable(byte[] secretHash) {
        return TenantScope.system(pool, c -> c.preparedQuery("SELECT " + prefixed("k") + " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id "
                        + "WHERE k.secret_hash = $1 AND k.revoked_at IS NULL AND t.deleted_at IS NULL "
                        + "AND (k.expires_at IS NULL OR k.expires_at > now())")
                .execute(Tuple.of(Buffer.buffer(secretHash)))
                .map(rows -> first(rows.iterator())));
    }

    Future<Void> touch(UUID tenantId, UUID keyId) {
        return TenantScope.tenant(pool, tenantId, c -> c
                .preparedQuery("UPDATE api_keys SET last_used_at = now() WHERE tenant_id = $1 AND id = $2")
                .execute(Tuple.of(tenantId, keyId))
                .mapEmpty());
    }

    private static String prefixed(String alias) {
        return alias + "." + ApiKey.COLUMNS.replace(", ", ", " + alias + ".");
    }

    private static Optional<ApiKey> first(java.util.Iterator<Row> it) {
        return it.hasNext() ? Optional.of(ApiKey.from(it.next())) : Optional.empty();
    }
}
