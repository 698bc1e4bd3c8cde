package com.modelmarket.marketplace.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.Database;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Row-level security, the second wall: queries through the application's pool that forget their
 * tenant filter still see only the scoped tenant's rows, see nothing without a scope, and cannot
 * write another tenant's rows. Two tenants' rows in every protected table are written directly as
 * the database owner (who is not bound by the policies), then read back through the pool.
 */
@StartedPlatform
class RowLevelSecurityTest {

    /** A protected table, a key column to read through the pool, and (as the owner) the tenant owning a key. */
    private record Probe(String table, String key, String ownerSql) {
        static Probe owned(String table, String key) {
            return new Probe(table, key + "::text", "SELECT tenant_id FROM " + table + " WHERE " + key + "::text = ?");
        }
    }

    private static final List<Probe> PROBES = List.of(
            Probe.owned("users", "id"),
            Probe.owned("refresh_tokens", "id"),
            Probe.owned("api_keys", "id"),
            // public models are everyone's to read by design (visitorAndSystemScopes): the private ones
            new Probe("models WHERE visibility <> 'public'", "id::text", "SELECT tenant_id FROM models WHERE id::text = ?"),
            Probe.owned("model_versions", "id"),
            Probe.owned("plans", "id"),
            Probe.owned("subscriptions", "id"),
            Probe.owned("subscription_segments", "id"),
            Probe.owned("usage_rollups", "model_id"),
            Probe.owned("usage_records_v1", "request_id"),
            Probe.owned("usage_commits", "commit_id"),
            Probe.owned("invoices", "id"),
            Probe.owned("audit_log", "id"),
            // both tenants uploaded the same bytes: one row each
            new Probe("uploads", "tenant_id::text || '/' || sha256",
                    "SELECT tenant_id FROM uploads WHERE tenant_id::text || '/' || sha256 = ?"),
            new Probe("model_aliases", "model_id::text || '/' || alias",
                    "SELECT m.tenant_id FROM model_aliases a JOIN models m ON m.id = a.model_id WHERE a.model_id::text || '/' || a.alias = ?"),
            new Probe("model_shares", "model_id::text || '/' || tenant_id::text",
                    "SELECT m.tenant_id FROM model_shares s JOIN models m ON m.id = s.model_id WHERE s.model_id::text || '/' || s.tenant_id::text = ?"),
            new Probe("invoice_lines", "invoice_id::text || '/' || line_no",
                    "SELECT i.tenant_id FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE l.invoice_id::text || '/' || l.line_no = ?"));

    private static Platform platform;
    private static Database database;
    private static DbTarget owner;
    private static UUID tenantA;
    private static UUID tenantB;
    private static UUID tenantC;

    @BeforeAll
    static void start(Platform started, Api client) throws Exception {
        platform = started;
        database = platform.services().database();
        owner = database.target();
        tenantC = tenant("rls-c");
        tenantA = seed("rls-a");
        tenantB = seed("rls-b");
    }

    @Test
    @DisplayName("the pool acts as mm_app, and without a tenant every protected table looks empty while rows exist")
    void noScopeSeesNothing() {
        assertEquals(TenantScope.APP_ROLE, Api.await(database.pool().query("SELECT current_user").execute())
                .iterator().next().getString(0));
        for (Probe p : PROBES) {
            assertTrue(Sql.count(owner, "SELECT count(*) FROM " + p.table()) >= 2, p.table() + " has rows");
            long seen = Api.await(database.pool().query("SELECT count(*) FROM " + p.table()).execute())
                    .iterator().next().getLong(0);
            assertEquals(0, seen, p.table() + " through the pool, no scope");
        }
        assertEquals(0, Api.await(database.pool().query("SELECT count(*) FROM models").execute()).iterator().next().getLong(0),
                "not even public models without a scope");
    }

    @Test
    @DisplayName("a query with no tenant filter, run for tenant A, returns A's rows of every table and never B's")
    void forgottenFilterSeesOnlyTheScopedTenant() throws Exception {
        for (UUID me : List.of(tenantA, tenantB)) {
            for (Probe p : PROBES) {
                List<String> keys = keys(database.tenant(me, c -> c.query("SELECT " + p.key() + " FROM " + p.table()).execute()
                        .map(RowLevelSecurityTest::firstColumn)));
                assertFalse(keys.isEmpty(), p.table() + ": the tenant sees its own rows");
                for (String key : keys) {
                    assertEquals(me.toString(), ownerOf(p, key), p.table() + " row " + key + " seen by " + me);
                }
            }
        }
    }

    @Test
    @DisplayName("a visitor sees public catalog rows only; the system scope sees every tenant")
    void visitorAndSystemScopes() {
        long publicModels = Sql.count(owner, "SELECT count(*) FROM models WHERE visibility = 'public'");
        assertEquals(publicModels, scalar(TenantScope.visitor(database.pool(), c -> c.query("SELECT count(*) FROM models").execute()
                .map(rows -> rows.iterator().next().getLong(0)))));
        assertEquals(0L, scalar(TenantScope.visitor(database.pool(), c -> c.query("SELECT count(*) FROM users").execute()
                .map(rows -> rows.iterator().next().getLong(0)))));
        for (Probe p : PROBES) {
            assertEquals(Sql.count(owner, "SELECT count(*) FROM " + p.table()), scalar(database.system(c -> c
                    .query("SELECT count(*) FROM " + p.table()).execute().map(rows -> rows.iterator().next().getLong(0)))),
                    p.table() + " in the system scope");
        }
    }

    @Test
    @DisplayName("scoped to A, writing a row for B (or moving A's row to B) is refused by the policy's check")
    void writesForAnotherTenantAreRefused() {
        String b = tenantB.toString();
        List<String> writes = List.of(
                "INSERT INTO audit_log (tenant_id, action, target_type, target_id) VALUES ('" + b + "', 'x', 'y', 'z')",
                "INSERT INTO users (tenant_id, email, password_hash, role) VALUES ('" + b + "', 'evil@b.test', '$argon2id$x', 'owner')",
                "INSERT INTO api_keys (tenant_id, name, prefix, last_four, secret_hash, scopes) VALUES ('" + b
                        + "', 'k', 'mmk_evil', 'evil', decode(repeat('ab', 32), 'hex'), '{inference}')",
                "INSERT INTO models (tenant_id, kind, slug, name, task, visibility) VALUES ('" + b
                        + "', 'model', 'evil-model', 'Evil', 'regression', 'public')",
                "INSERT INTO usage_rollups (tenant_id, model_id, version_id, outcome, bucket, calls, items, compute_nanos) "
                        + "VALUES ('" + b + "', gen_random_uuid(), gen_random_uuid(), 'success', date_trunc('minute', now()), 1, 1, 1)",
                "INSERT INTO usage_records_v1 (request_id, tenant_id, model_id, version_id, items, compute_nanos, outcome, occurred_at) "
                        + "VALUES ('evil', '" + b + "', gen_random_uuid(), gen_random_uuid(), 1, 1, 'success', now())",
                "INSERT INTO usage_commits (commit_id, tenant_id, records, request_ids) VALUES (gen_random_uuid(), '" + b + "', 1, 'evil')",
                "UPDATE audit_log SET tenant_id = '" + b + "' WHERE tenant_id = '" + tenantA + "'",
                "UPDATE models SET tenant_id = '" + b + "' WHERE tenant_id = '" + tenantA + "'");
        for (String sql : writes) {
            Exception e = assertThrows(Exception.class, () -> Api.await(database.tenant(tenantA, c -> c.query(sql).execute())), sql);
            PgException pg = pgCause(e, sql);
            assertEquals("42501", pg.getSqlState(), sql + ": " + pg.getMessage());
        }
        // Without any scope, not even a tenant's own row can be written.
        Exception e = assertThrows(Exception.class, () -> Api.await(database.pool().query(
                "INSERT INTO audit_log (tenant_id, action, target_type, target_id) VALUES ('" + tenantA + "', 'x', 'y', 'z')").execute()));
        assertEquals("42501", pgCause(e, "unscoped insert").getSqlState());
        // And B's rows cannot be changed or deleted from A's scope: they are simply not there.
        assertEquals(0, Api.await(database.tenant(tenantA, c -> c.preparedQuery("DELETE FROM users WHERE tenant_id = $1")
                .execute(Tuple.of(tenantB)))).rowCount());
        assertTrue(Sql.count(owner, "SELECT count(*) FROM users WHERE tenant_id = ?", tenantB) > 0);
    }

    private static long scalar(Future<Long> f) {
        return Api.await(f);
    }

    private static List<String> keys(Future<List<String>> f) {
        return Api.await(f);
    }

    private static List<String> firstColumn(io.vertx.sqlclient.RowSet<Row> rows) {
        List<String> out = new ArrayList<>();
        rows.forEach(r -> out.add(r.getString(0)));
        return out;
    }

    private static String ownerOf(Probe p, String key) throws Exception {
        try (Connection c = DriverManager.getConnection(owner.jdbcUrl(), owner.user(), owner.password());
             PreparedStatement q = c.prepareStatement(p.ownerSql())) {
            q.setString(1, key);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static UUID tenant(String slug) throws Exception {
        return UUID.fromString(insert("INSERT INTO tenants (name, slug) VALUES (?, ?) RETURNING id", slug, slug));
    }

    /** One tenant with a row in every protected table (as the owner, past the policies). */
    private static UUID seed(String slug) throws Exception {
        UUID t = tenant(slug);
        String user = insert("INSERT INTO users (tenant_id, email, password_hash, role) VALUES (?::uuid, ?, '$argon2id$x', 'owner') "
                + "RETURNING id", t, slug + "@rls.test");
        insert("INSERT INTO refresh_tokens (family_id, tenant_id, user_id, token_hash, expires_at) VALUES (gen_random_uuid(), ?::uuid, "
                + "?::uuid, decode(md5(random()::text) || md5(random()::text), 'hex'), now() + interval '1 day') RETURNING id", t, user);
        insert("INSERT INTO api_keys (tenant_id, name, prefix, last_four, secret_hash, scopes) VALUES (?::uuid, 'k', 'mmk_test', "
                + "'abcd', decode(md5(random()::text) || md5(random()::text), 'hex'), '{inference}') RETURNING id", t);
        String model = insert("INSERT INTO models (tenant_id, kind, slug, name, task, visibility) VALUES (?::uuid, 'model', ?, 'M', "
                + "'regression', 'private') RETURNING id", t, slug + "-private");
        insert("INSERT INTO models (tenant_id, kind, slug, name, task, visibility) VALUES (?::uuid, 'algorithm', ?, 'P', "
                + "'regression', 'public') RETURNING id", t, slug + "-public");
        insert("INSERT INTO model_shares (model_id, tenant_id) VALUES (?::uuid, ?::uuid) RETURNING model_id", model, tenantC);
        String version = insert("INSERT INTO model_versions (model_id, tenant_id, version, major, minor, patch, state, artifact_sha256, "
                + "artifact_size, manifest, load_millis, single_latency_micros) VALUES (?::uuid, ?::uuid, '1.0.0', 1, 0, 0, 'published', "
                + "repeat('a', 64), 1, '{}', 1, 1) RETURNING id", model, t);
        insert("INSERT INTO model_aliases (model_id, alias, version_id) VALUES (?::uuid, 'latest', ?::uuid) RETURNING alias", model, version);
        insert("INSERT INTO uploads (tenant_id, sha256, size_bytes) VALUES (?::uuid, repeat('a', 64), 1) RETURNING sha256", t);
        String plan = insert("INSERT INTO plans (model_id, tenant_id, name, type, currency, included_calls, rate_limit_per_minute) "
                + "VALUES (?::uuid, ?::uuid, 'Free', 'free', 'EUR', 10, 60) RETURNING id", model, t);
        String sub = insert("INSERT INTO subscriptions (tenant_id, model_id, plan_id, status) VALUES (?::uuid, ?::uuid, ?::uuid, 'active') "
                + "RETURNING id", t, model, plan);
        insert("INSERT INTO subscription_segments (subscription_id, tenant_id, plan_id, active_from) VALUES (?::uuid, ?::uuid, ?::uuid, "
                + "now()) RETURNING id", sub, t, plan);
        insert("INSERT INTO usage_rollups (tenant_id, subscription_id, model_id, version_id, outcome, bucket, calls, items, "
                + "compute_nanos) VALUES (?::uuid, ?::uuid, ?::uuid, ?::uuid, 'success', date_trunc('minute', now()), 1, 1, 1) "
                + "RETURNING model_id", t, sub, model, version);
        insert("INSERT INTO usage_commits (commit_id, tenant_id, records, request_ids) VALUES (gen_random_uuid(), ?::uuid, 1, ?) "
                + "RETURNING commit_id", t, "rls-" + slug);
        insert("INSERT INTO usage_records_v1 (request_id, tenant_id, subscription_id, model_id, version_id, items, compute_nanos, outcome, "
                + "occurred_at) VALUES (?, ?::uuid, ?::uuid, ?::uuid, ?::uuid, 1, 1, 'success', now()) RETURNING request_id",
                "rls-" + slug, t, sub, model, version);
        insert("INSERT INTO billing_periods (period_start, period_end) VALUES ('2020-01-01 00:00:00+00', '2020-02-01 00:00:00+00') ON CONFLICT DO NOTHING "
                + "RETURNING period_start");
        String invoice = insert("INSERT INTO invoices (tenant_id, number, period_start, period_end, currency, total_minor) VALUES "
                + "(?::uuid, 1, '2020-01-01 00:00:00+00', '2020-02-01 00:00:00+00', 'EUR', 0) RETURNING id", t);
        insert("INSERT INTO invoice_lines (invoice_id, line_no, subscription_id, plan_id, model_id, publisher_tenant_id, kind, "
                + "description, active_from, active_to, active_days, period_days, calls, included_calls, quantity, "
                + "unit_price_per_1000_minor, fee_minor, usage_minor, amount_minor) VALUES (?::uuid, 1, ?::uuid, ?::uuid, ?::uuid, "
                + "?::uuid, 'usage', 'd', '2020-01-01 00:00:00+00', '2020-02-01 00:00:00+00', 31, 31, 0, 0, 0, 0, 0, 0, 0) RETURNING line_no",
                invoice, sub, plan, model, t);
        insert("INSERT INTO audit_log (tenant_id, action, target_type, target_id) VALUES (?::uuid, 'seed', 'test', 'x') RETURNING id", t);
        return t;
    }

    /** Runs an INSERT ... RETURNING as the owner; the first column of the row, or null when none came back. */
    private static String insert(String sql, Object... params) throws Exception {
        try (Connection c = DriverManager.getConnection(owner.jdbcUrl(), owner.user(), owner.password());
             PreparedStatement q = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                q.setString(i + 1, String.valueOf(params[i]));
            }
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static PgException pgCause(Throwable e, String what) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PgException pg) {
                return pg;
            }
        }
        throw new AssertionError(what + ": not refused by PostgreSQL", e);
    }
}
