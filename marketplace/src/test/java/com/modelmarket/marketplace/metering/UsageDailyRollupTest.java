package com.modelmarket.marketplace.metering;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.modelmarket.billing.metering.UsageCommit;
import com.modelmarket.billing.metering.UsageOutcome;
import com.modelmarket.billing.metering.UsageRecord;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.invoicing.UsageQueries;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.TestDatabases;
import com.modelmarket.marketplace.tenants.Role;
import com.modelmarket.migrations.Migrations;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The daily rollups (migration V18) hold exactly what the bucket rollups hold, day by day, however
 * commits arrive (twice, legacy ones by request id); the sums read from both (mm_usage_calls, the
 * usage summary) equal the sums over the bucket rows. Seeded: {@code -Dmm.seed=N} replays a run.
 */
@ExtendWith(VertxExtension.class)
class UsageDailyRollupTest {

    private static final long SEED = Long.getLong("mm.seed", 20261201L);
    private static final Instant START = Instant.parse("2026-11-28T00:00:00Z"); // four days, three midnights inside
    private static final int MINUTES = 4 * 1440;

    private static DbTarget db;
    private static Vertx vertx;
    private static PgUsageSink sink;
    private static Pool pool;
    private static final UUID TENANT = UUID.randomUUID();
    private static final UUID OTHER = UUID.randomUUID();
    private static final UUID MODEL = UUID.randomUUID();
    private static final UUID VERSION_1 = UUID.randomUUID();
    private static final UUID VERSION_2 = UUID.randomUUID();
    private static final UUID SUB_CHANGED = UUID.randomUUID(); // plan changes at 2026-11-29 13:37
    private static final UUID SUB_PLAIN = UUID.randomUUID();
    private static final UUID KEY = UUID.randomUUID();

    @BeforeAll
    static void start() {
        System.out.println("UsageDailyRollupTest seed " + SEED + " (-Dmm.seed=" + SEED + " replays it)");
        db = TestDatabases.freshDatabase();
        Flyway.configure(Migrations.class.getClassLoader()).locations(Migrations.LOCATION)
                .dataSource(db.jdbcUrl(), db.user(), db.password()).load().migrate();
        UUID publisher = UUID.randomUUID();
        Sql.execute(db, "INSERT INTO tenants (id, name, slug) VALUES (?::uuid, 'P', 'daily-pub'), (?::uuid, 'C', 'daily-con'), "
                + "(?::uuid, 'O', 'daily-other')", publisher.toString(), TENANT.toString(), OTHER.toString());
        Sql.execute(db, "INSERT INTO models (id, tenant_id, kind, slug, name, task, visibility) VALUES (?::uuid, ?::uuid, 'model', "
                + "'daily-model', 'Daily', 'regression', 'public')", MODEL.toString(), publisher.toString());
        for (UUID v : List.of(VERSION_1, VERSION_2)) {
            Sql.execute(db, "INSERT INTO model_versions (id, model_id, tenant_id, version, major, minor, patch, state, artifact_sha256, "
                    + "artifact_size, manifest, load_millis, single_latency_micros) VALUES (?::uuid, ?::uuid, ?::uuid, ?, 1, ?, 0, "
                    + "'published', repeat('a', 64), 1, '{}', 1, 1)", v.toString(), MODEL.toString(), publisher.toString(),
                    v.equals(VERSION_1) ? "1.0.0" : "1.1.0", v.equals(VERSION_1) ? 0 : 1);
        }
        UUID free = UUID.randomUUID();
        UUID paid = UUID.randomUUID();
        Sql.execute(db, "INSERT INTO plans (id, model_id, tenant_id, name, type, currency, included_calls, rate_limit_per_minute) "
                + "VALUES (?::uuid, ?::uuid, ?::uuid, 'Free', 'free', 'EUR', 1000, 60)", free.toString(), MODEL.toString(), publisher.toString());
        Sql.execute(db, "INSERT INTO plans (id, model_id, tenant_id, name, type, currency, price_per_1000_minor, rate_limit_per_minute) "
                + "VALUES (?::uuid, ?::uuid, ?::uuid, 'Paid', 'pay_as_you_go', 'EUR', 10, 60)", paid.toString(), MODEL.toString(), publisher.toString());
        Sql.execute(db, "INSERT INTO subscriptions (id, tenant_id, model_id, plan_id, status, started_at) VALUES "
                + "(?::uuid, ?::uuid, ?::uuid, ?::uuid, 'active', '2026-11-01'), (?::uuid, ?::uuid, ?::uuid, ?::uuid, 'cancelled', '2026-11-01')",
                SUB_CHANGED.toString(), TENANT.toString(), MODEL.toString(), paid.toString(),
                SUB_PLAIN.toString(), OTHER.toString(), MODEL.toString(), free.toString());
        Sql.execute(db, "INSERT INTO subscription_segments (subscription_id, tenant_id, plan_id, active_from, active_to) VALUES "
                + "(?::uuid, ?::uuid, ?::uuid, '2026-11-01', '2026-11-29 13:37:00+00'), (?::uuid, ?::uuid, ?::uuid, '2026-11-29 13:37:00+00', NULL), "
                + "(?::uuid, ?::uuid, ?::uuid, '2026-11-01', '2026-11-30 00:00:00+00')",
                SUB_CHANGED.toString(), TENANT.toString(), free.toString(), SUB_CHANGED.toString(), TENANT.toString(), paid.toString(),
                SUB_PLAIN.toString(), OTHER.toString(), free.toString());
        vertx = Vertx.vertx();
        PgConnectOptions options = db.connectOptions();
        options.addProperty("role", "mm_app");
        sink = new PgUsageSink(vertx, options, UsageBuckets.MINUTES);
        pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(options).using(vertx).build();
    }

    @AfterAll
    static void stop() throws Exception {
        pool.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static UsageRecord call(Random rng, String id, UUID tenant, UUID subscription) {
        // seconds anywhere in the four days, with extra weight on the last and first minute of each day
        long second = rng.nextInt(10) == 0 ? (rng.nextInt(4) * 86_400L + (rng.nextBoolean() ? 0 : 86_399))
                : rng.nextInt(MINUTES * 60);
        UsageOutcome outcome = rng.nextInt(10) == 0 ? UsageOutcome.SERVER_ERROR : UsageOutcome.SUCCESS;
        return new UsageRecord(id, tenant, rng.nextBoolean() ? KEY : null, subscription, MODEL,
                rng.nextBoolean() ? VERSION_1 : VERSION_2, 1 + rng.nextInt(4), rng.nextInt(1_000_000), outcome,
                START.plusSeconds(second));
    }

    private static void write(List<UsageCommit> commits) throws Exception {
        sink.write(commits).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    @DisplayName("every day's rollup equals the sum of that day's bucket rows, each commit counted once, re-deliveries and legacy journals included")
    void dailyEqualsBuckets() throws Exception {
        Random rng = new Random(SEED);
        Map<String, Long> expectedPerTenantDay = new HashMap<>();
        List<UsageCommit> delivered = new ArrayList<>();
        Set<String> legacySeen = new HashSet<>();
        int n = 0;
        for (int batch = 0; batch < 40; batch++) {
            List<UsageCommit> commits = new ArrayList<>();
            for (int c = 0; c < 1 + rng.nextInt(4); c++) {
                boolean legacy = rng.nextInt(8) == 0;
                List<UsageRecord> records = new ArrayList<>();
                for (int r = 0; r < 1 + rng.nextInt(60); r++) {
                    UUID tenant = rng.nextInt(3) == 0 ? OTHER : TENANT;
                    UUID sub = rng.nextInt(5) == 0 ? null : (tenant.equals(OTHER) ? SUB_PLAIN : SUB_CHANGED);
                    // a legacy journal may repeat a request the old table already has
                    String id = legacy && !legacySeen.isEmpty() && rng.nextInt(4) == 0 ? legacySeen.iterator().next() : "r" + n++;
                    UsageRecord rec = call(rng, id, tenant, sub);
                    if (legacy && legacySeen.contains(id)) {
                        records.add(rec);
                        continue;
                    }
                    if (legacy) {
                        legacySeen.add(id);
                    }
                    records.add(rec);
                    expectedPerTenantDay.merge(tenant + "/" + LocalDate.ofInstant(rec.occurredAt(), java.time.ZoneOffset.UTC), 1L, Long::sum);
                }
                commits.add(new UsageCommit(UUID.randomUUID(), records, legacy));
            }
            // now and then a commit delivered before comes again (a write that timed out but landed)
            if (!delivered.isEmpty() && rng.nextInt(3) == 0) {
                commits.add(delivered.get(rng.nextInt(delivered.size())));
            }
            write(commits);
            delivered.addAll(commits.stream().filter(c -> !c.legacy()).toList());
        }
        assertEquals(0, Sql.count(db, "SELECT count(*) FROM ((SELECT tenant_id, model_id, version_id, subscription_id, api_key_id, "
                + "outcome, (bucket AT TIME ZONE 'UTC')::date, sum(calls), sum(items), sum(compute_nanos) FROM usage_rollups "
                + "GROUP BY 1, 2, 3, 4, 5, 6, 7 EXCEPT SELECT tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, day, "
                + "calls, items, compute_nanos FROM usage_daily) UNION ALL (SELECT tenant_id, model_id, version_id, subscription_id, "
                + "api_key_id, outcome, day, calls, items, compute_nanos FROM usage_daily EXCEPT SELECT tenant_id, model_id, version_id, "
                + "subscription_id, api_key_id, outcome, (bucket AT TIME ZONE 'UTC')::date, sum(calls), sum(items), sum(compute_nanos) "
                + "FROM usage_rollups GROUP BY 1, 2, 3, 4, 5, 6, 7)) x"), "usage_daily = usage_rollups added up per day");
        for (Map.Entry<String, Long> e : expectedPerTenantDay.entrySet()) {
            String[] k = e.getKey().split("/");
            assertEquals((long) e.getValue(), Sql.count(db, "SELECT coalesce(sum(calls), 0) FROM usage_daily WHERE tenant_id = ?::uuid "
                    + "AND day = ?::date", k[0], k[1]), "calls of " + e.getKey() + ", each counted once");
        }

        // any range on bucket boundaries: whole days from usage_daily, the edges from usage_rollups
        for (int i = 0; i < 60; i++) {
            int a = rng.nextInt(5) == 0 ? 1440 * rng.nextInt(5) : rng.nextInt(MINUTES + 1);
            int b = rng.nextInt(5) == 0 ? 1440 * rng.nextInt(5) : rng.nextInt(MINUTES + 1);
            String lo = START.plusSeconds(60L * Math.min(a, b) - 120).toString();
            String hi = START.plusSeconds(60L * Math.max(a, b) + (rng.nextBoolean() ? 0 : 60)).toString();
            for (UUID sub : List.of(SUB_CHANGED, SUB_PLAIN)) {
                for (String outcome : List.of("success", "server_error")) {
                    assertEquals(Sql.count(db, "SELECT coalesce(sum(calls), 0) FROM usage_rollups WHERE subscription_id = ?::uuid "
                                    + "AND outcome = ? AND bucket >= ?::timestamptz AND bucket < ?::timestamptz", sub.toString(), outcome, lo, hi),
                            Sql.count(db, "SELECT calls FROM mm_usage_calls(?::uuid, ?, ?::timestamptz, ?::timestamptz)", sub.toString(), outcome, lo, hi),
                            "calls of " + sub + " " + outcome + " in [" + lo + ", " + hi + ")");
                }
            }
        }

        // the usage summary (plan changing at 13:37 on one day) equals its definition over the bucket rows
        for (UUID tenant : List.of(TENANT, OTHER)) {
            Principal caller = new Principal(UUID.randomUUID(), tenant, Role.OWNER, UUID.randomUUID());
            for (int[] days : new int[][] {{0, 3}, {1, 1}, {1, 2}, {3, 3}}) {
                LocalDate from = LocalDate.of(2026, 11, 28).plusDays(days[0]);
                LocalDate to = LocalDate.of(2026, 11, 28).plusDays(days[1]);
                JsonArray summary = new UsageQueries(pool).summary(caller, from, to).toCompletionStage().toCompletableFuture()
                        .get(30, TimeUnit.SECONDS);
                List<String> got = new ArrayList<>();
                for (Object o : summary) {
                    JsonObject r = (JsonObject) o;
                    got.add(String.join("|", r.getString("day"), r.getString("model"), r.getString("version"),
                            String.valueOf(r.getString("plan")), String.valueOf(r.getString("apiKeyId")), r.getLong("calls").toString(),
                            r.getLong("billableCalls").toString(), r.getLong("items").toString(), r.getLong("computeMillis").toString()));
                }
                List<String> expected = bucketSummary(tenant, from, to);
                java.util.Collections.sort(expected);
                java.util.Collections.sort(got);
                assertEquals(expected, got, "summary of " + tenant + " " + from + ".." + to);
                assertEquals(true, got.size() > 0, "a summary with rows");
            }
        }
    }

    /** The summary's definition: per bucket, the plan of the segment the bucket falls in (the query before V18). */
    private static List<String> bucketSummary(UUID tenant, LocalDate from, LocalDate to) throws Exception {
        String sql = "SELECT (u.bucket AT TIME ZONE 'UTC')::date AS day, m.slug, v.version, p.name, u.api_key_id, sum(u.calls)::bigint, "
                + "coalesce(sum(u.calls) FILTER (WHERE u.outcome = 'success'), 0)::bigint, sum(u.items)::bigint, sum(u.compute_nanos)::bigint "
                + "FROM usage_rollups u JOIN models m ON m.id = u.model_id LEFT JOIN model_versions v ON v.id = u.version_id "
                + "LEFT JOIN subscription_segments g ON g.subscription_id = u.subscription_id "
                + " AND u.bucket >= g.active_from AND (g.active_to IS NULL OR u.bucket < g.active_to) LEFT JOIN plans p ON p.id = g.plan_id "
                + "WHERE u.tenant_id = ?::uuid AND u.bucket >= ?::timestamptz AND u.bucket < ?::timestamptz "
                + "GROUP BY 1, 2, 3, 4, 5, u.model_id ORDER BY 1, 2, 3, 5";
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             PreparedStatement q = c.prepareStatement(sql)) {
            q.setString(1, tenant.toString());
            q.setString(2, from + "T00:00:00Z");
            q.setString(3, to.plusDays(1) + "T00:00:00Z");
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    out.add(String.join("|", rs.getString(1), rs.getString(2), rs.getString(3), String.valueOf(rs.getString(4)),
                            String.valueOf(rs.getString(5)), rs.getString(6), rs.getString(7), rs.getString(8),
                            Long.toString(rs.getLong(9) / 1_000_000)));
                }
            }
        }
        return out;
    }
}
