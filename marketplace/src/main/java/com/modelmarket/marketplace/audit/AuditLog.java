package com.modelmarket.marketplace.audit;

import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.ForbiddenException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/**
 * The tenant's audit log: who did what, when and from where. Entries are written in the same
 * transaction as the change they describe; owners and admins read their own tenant's log.
 */
public final class AuditLog {

    private final Pool pool;

    public AuditLog(Pool pool) {
        this.pool = pool;
    }

    public Future<Void> record(SqlClient tx, UUID tenantId, Actor actor, String action, String targetType,
                               Object targetId, JsonObject details) {
        return tx.preparedQuery("INSERT INTO audit_log (tenant_id, actor_user_id, action, target_type, target_id, "
                        + "details, client_address, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .execute(Tuple.of(tenantId, actor.principal().userId(), action, targetType, String.valueOf(targetId),
                        details == null ? new JsonObject() : details, actor.clientAddress(), actor.requestId()))
                .mapEmpty();
    }

    /** An action the platform took on its own (no user, no request): a job found interrupted at start, for example. */
    public Future<Void> recordByPlatform(SqlClient tx, UUID tenantId, String action, String targetType, Object targetId,
                                        JsonObject details) {
        return tx.preparedQuery("INSERT INTO audit_log (tenant_id, actor_user_id, action, target_type, target_id, "
                        + "details, client_address, request_id) VALUES ($1, NULL, $2, $3, $4, $5, 'local', NULL)")
                .execute(Tuple.of(tenantId, action, targetType, String.valueOf(targetId), details == null ? new JsonObject() : details))
                .mapEmpty();
    }

    /** Newest first; {@code beforeId} pages backwards (0 for the newest). */
    public Future<JsonObject> list(Principal caller, long beforeId, int limit) {
        if (!caller.role().canManageTenant()) {
            return Future.failedFuture(new ForbiddenException("Only owners and admins read the audit log"));
        }
        return TenantScope.tenant(pool, caller.tenantId(), c -> c.preparedQuery("SELECT a.id, a.actor_user_id, u.email, a.action, a.target_type, a.target_id, a.details, "
                        + "a.client_address, a.request_id, a.created_at FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id "
                        + "WHERE a.tenant_id = $1 AND ($2 = 0 OR a.id < $2) ORDER BY a.id DESC LIMIT $3")
                .execute(Tuple.of(caller.tenantId(), beforeId, limit))
                .map(rows -> {
                    JsonArray items = new JsonArray();
                    long last = 0;
                    for (var r : rows) {
                        last = r.getLong("id");
                        items.add(new JsonObject()
                                .put("id", last)
                                .put("actorUserId", r.getUUID("actor_user_id") == null ? null : r.getUUID("actor_user_id").toString())
                                .put("actorEmail", r.getString("email"))
                                .put("action", r.getString("action"))
                                .put("targetType", r.getString("target_type"))
                                .put("targetId", r.getString("target_id"))
                                .put("details", r.getJsonObject("details"))
                                .put("clientAddress", r.getString("client_address"))
                                .put("requestId", r.getString("request_id"))
                                .put("at", r.getOffsetDateTime("created_at").toInstant().toString()));
                    }
                    return new JsonObject().put("items", items)
                            .put("nextBefore", items.size() == limit ? last : null);
                }));
    }
}
