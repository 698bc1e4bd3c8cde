package com.modelmarket.marketplace.auth;

import com.modelmarket.marketplace.db.TenantScope;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.UUID;

/** SQL for refresh tokens, stored only as SHA-256 digests and grouped in families (sessions). */
public final class RefreshTokenRepository {

    private final Pool pool;

    public RefreshTokenRepository(Pool pool) {
        this.pool = pool;
    }

    Future<Void> insert(SqlClient client, UUID familyId, UUID tenantId, UUID userId, byte[] hash, Duration ttl) {
        OffsetDateTime expires = OffsetDateTime.now(ZoneOffset.UTC).plus(ttl);
        return client.preparedQuery("INSERT INTO refresh_tokens (family_id, tenant_id, user_id, token_hash, expires_at) "
                        + "VALUES ($1, $2, $3, $4, $5)")
                .execute(Tuple.of(familyId, tenantId, userId, io.vertx.core.buffer.Buffer.buffer(hash), expires))
                .mapEmpty();
    }

    /** The session a live token belongs to; marks the token used so it cannot be used again. */
    record Consumed(UUID familyId, UUID tenantId, UUID userId) {
    }

    Future<Optional<Consumed>> consume(SqlClient client, byte[] hash) {
        return client.preparedQuery("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1 "
                        + "AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now() "
                        + "RETURNING family_id, tenant_id, user_id")
                .execute(Tuple.of(io.vertx.core.buffer.Buffer.buffer(hash)))
                .map(rows -> {
                    var it = rows.iterator();
                    if (!it.hasNext()) {
                        return Optional.empty();
                    }
                    Row r = it.next();
                    return Optional.of(new Consumed(r.getUUID("family_id"), r.getUUID("tenant_id"), r.getUUID("user_id")));
                });
    }

    /** Revokes the family of a token that was already used (a replay); true when it was one. */
    Future<Boolean> revokeFamilyIfReplayed(byte[] hash) {
        return TenantScope.system(pool, c -> c.preparedQuery("UPDATE refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND family_id = "
                        + "(SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL)")
                .execute(Tuple.of(io.vertx.core.buffer.Buffer.buffer(hash)))
                .compose(rows -> c.preparedQuery("SELECT 1 FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL")
                        .execute(Tuple.of(io.vertx.core.buffer.Buffer.buffer(hash))))
                .map(rows -> rows.size() > 0));
    }

    Future<Void> revokeFamily(UUID tenantId, UUID familyId) {
        return TenantScope.tenant(pool, tenantId, c -> c.preparedQuery("UPDATE refresh_tokens SET revoked_at = now() "
                        + "WHERE tenant_id = $1 AND family_id = $2 AND revoked_at IS NULL")
                .execute(Tuple.of(tenantId, familyId))
                .mapEmpty());
    }

    public Future<Void> revokeAllOfUser(SqlClient client, UUID tenantId, UUID userId) {
        return client.preparedQuery("UPDATE refresh_tokens SET revoked_at = now() "
                        + "WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL")
                .execute(Tuple.of(tenantId, userId))
                .mapEmpty();
    }
}
