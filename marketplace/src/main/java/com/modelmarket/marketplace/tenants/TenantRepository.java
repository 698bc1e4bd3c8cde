package com.modelmarket.marketplace.tenants;

import com.modelmarket.marketplace.tenants.Role;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.metering.UsageBuckets;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL for tenants and their users. Every query on existing tenant data takes the tenant id of the
 * authenticated principal; only sign-up and login look users up across tenants.
 */
public final class TenantRepository {

    private static final String MEMBER_COLUMNS =
            "id, tenant_id, email, display_name, role, created_at, disabled_at";

    private final Pool pool;

    private final UsageBuckets buckets;

    public TenantRepository(Pool pool, UsageBuckets buckets) {
        this.buckets = buckets;
        this.pool = pool;
    }

    public Pool pool() {
        return pool;
    }

    /** Whether a tenant already has this slug. */
    public Future<Boolean> slugTaken(String slug) {
        return pool.preparedQuery("SELECT 1 FROM tenants WHERE slug = $1").execute(Tuple.of(slug)).map(rows -> rows.size() > 0);
    }

    /** Inserts a tenant; the caller picks a slug (unique violation when taken). */
    public Future<Tenant> insertTenant(SqlClient client, String name, String slug) {
        return client.preparedQuery("INSERT INTO tenants (name, slug) VALUES ($1, $2) RETURNING id, name, slug, created_at")
                .execute(Tuple.of(name, slug))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    return new Tenant(row.getUUID("id"), row.getString("name"), row.getString("slug"),
                            row.getOffsetDateTime("created_at"));
                });
    }

    public Future<Member> insertUser(SqlClient client, UUID tenantId, String email, String displayName,
                                     String passwordHash, Role role) {
        return client.preparedQuery("INSERT INTO users (tenant_id, email, display_name, password_hash, role) "
                        + "VALUES ($1, $2, $3, $4, $5) RETURNING " + MEMBER_COLUMNS)
                .execute(Tuple.of(tenantId, email, displayName, passwordHash, role.dbName()))
                .map(rows -> Member.from(rows.iterator().next()));
    }

    public Future<Optional<Tenant>> findTenant(UUID tenantId) {
        return pool.preparedQuery("SELECT id, name, slug, created_at FROM tenants WHERE id = $1 AND deleted_at IS NULL")
                .execute(Tuple.of(tenantId))
                .map(rows -> first(rows).map(r -> new Tenant(r.getUUID("id"), r.getString("name"),
                        r.getString("slug"), r.getOffsetDateTime("created_at"))));
    }

    /** A login candidate: an enabled user of a live tenant, with the password hash. */
    public record Credentials(UUID userId, UUID tenantId, Role role, String passwordHash) {
    }

    /** By e-mail across tenants (who logs in is not known yet): the system scope. */
    public Future<Optional<Credentials>> findCredentials(String email) {
        return TenantScope.system(pool, c -> c.preparedQuery("SELECT u.id, u.tenant_id, u.role, u.password_hash FROM users u "
                        + "JOIN tenants t ON t.id = u.tenant_id "
                        + "WHERE u.email = $1 AND u.disabled_at IS NULL AND t.deleted_at IS NULL")
                .execute(Tuple.of(email))
                .map(rows -> first(rows).map(r -> new Credentials(r.getUUID("id"), r.getUUID("tenant_id"),
                        Role.fromDb(r.getString("role")), r.getString("password_hash")))));
    }

    /**
     * The current role of a user whose session {@code sessionId} is still open, or empty when the
     * user, the tenant or the session is gone, disabled or revoked.
     */
    public Future<Optional<Role>> activeSessionRole(UUID tenantId, UUID userId, UUID sessionId) {
        return TenantScope.tenant(pool, tenantId, c -> activeSessionRole(c, tenantId, userId, sessionId));
    }

    /** As above, in a transaction already under way (whose scope must include the tenant). */
    public Future<Optional<Role>> activeSessionRole(SqlClient client, UUID tenantId, UUID userId, UUID sessionId) {
        return client.preparedQuery("SELECT u.role FROM users u JOIN tenants t ON t.id = u.tenant_id "
                        + "WHERE u.id = $1 AND u.tenant_id = $2 AND u.disabled_at IS NULL AND t.deleted_at IS NULL "
                        + "AND EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = $3 AND r.user_id = u.id "
                        + "AND r.revoked_at IS NULL AND r.expires_at > now())")
                .execute(Tuple.of(userId, tenantId, sessionId))
                .map(rows -> first(rows).map(r -> Role.fromDb(r.getString("role"))));
    }

    public Future<List<Member>> listMembers(UUID tenantId) {
        return TenantScope.tenant(pool, tenantId, c -> c
                .preparedQuery("SELECT " + MEMBER_COLUMNS + " FROM users WHERE tenant_id = $1 ORDER BY created_at, id")
                .execute(Tuple.of(tenantId))
                .map(rows -> {
                    List<Member> members = new java.util.ArrayList<>();
                    rows.forEach(r -> members.add(Member.from(r)));
                    return members;
                }));
    }

    public Future<Optional<Member>> findMember(SqlClient client, UUID tenantId, UUID userId, boolean forUpdate) {
        return client.preparedQuery("SELECT " + MEMBER_COLUMNS + " FROM users WHERE tenant_id = $1 AND id = $2"
                        + (forUpdate ? " FOR UPDATE" : ""))
                .execute(Tuple.of(tenantId, userId))
                .map(rows -> first(rows).map(Member::from));
    }

    /** Number of enabled owners of a tenant, locking them so two demotions cannot race. */
    public Future<Integer> countOwnersForUpdate(SqlClient client, UUID tenantId) {
        return client.preparedQuery("SELECT id FROM users WHERE tenant_id = $1 AND role = 'owner' "
                        + "AND disabled_at IS NULL FOR UPDATE")
                .execute(Tuple.of(tenantId))
                .map(RowSet::rowCount);
    }

    public Future<Member> updateRole(SqlClient client, UUID tenantId, UUID userId, Role role) {
        return client.preparedQuery("UPDATE users SET role = $3 WHERE tenant_id = $1 AND id = $2 RETURNING " + MEMBER_COLUMNS)
                .execute(Tuple.of(tenantId, userId, role.dbName()))
                .map(rows -> Member.from(rows.iterator().next()));
    }

    public Future<Void> deleteMember(SqlClient client, UUID tenantId, UUID userId) {
        return client.preparedQuery("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
                .execute(Tuple.of(tenantId, userId))
                .mapEmpty();
    }

    /**
     * Marks a live tenant deleted (false when it was not live) and shuts it out: its users are
     * disabled, its sessions and API keys revoked, and the active subscriptions it holds or that
     * others hold to its models are cancelled (their segments closed, so billing stops there; each
     * subscriber's audit log says why). Usage, invoices and the rows themselves are kept for the
     * books. Touches several tenants' rows: run it in the system scope.
     */
    public Future<Boolean> markDeleted(SqlClient tx, UUID tenantId) {
        return tx.preparedQuery("UPDATE tenants SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id")
                .execute(Tuple.of(tenantId))
                .compose(rows -> rows.rowCount() == 0 ? Future.succeededFuture(false) : tx.preparedQuery(
                                "UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE tenant_id = $1")
                        .execute(Tuple.of(tenantId))
                        .compose(v -> tx.preparedQuery("UPDATE refresh_tokens SET revoked_at = now() "
                                + "WHERE tenant_id = $1 AND revoked_at IS NULL").execute(Tuple.of(tenantId)))
                        .compose(v -> tx.preparedQuery("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
                                + "WHERE tenant_id = $1").execute(Tuple.of(tenantId)))
                        .compose(v -> tx.preparedQuery("WITH ended AS (UPDATE subscriptions SET status = 'cancelled', "
                                + "ended_at = now() WHERE status = 'active' AND (tenant_id = $1 "
                                + "OR model_id IN (SELECT id FROM models WHERE tenant_id = $1)) RETURNING id, tenant_id), "
                                + "closed AS (UPDATE subscription_segments SET active_to = " + buckets.ceilSql("now()") + " " // on a bucket boundary (SubscriptionRepository)
                                + "WHERE active_to IS NULL "
                                + "AND subscription_id IN (SELECT id FROM ended)) "
                                + "INSERT INTO audit_log (tenant_id, action, target_type, target_id, details) "
                                + "SELECT tenant_id, 'subscription.cancel', 'subscription', id::text, "
                                + "jsonb_build_object('reason', 'the publisher left the marketplace') FROM ended WHERE tenant_id <> $1")
                                .execute(Tuple.of(tenantId)))
                        .map(v -> true));
    }

    static Optional<Row> first(RowSet<Row> rows) {
        var it = rows.iterator();
        return it.hasNext() ? Optional.of(it.next()) : Optional.empty();
    }
}
