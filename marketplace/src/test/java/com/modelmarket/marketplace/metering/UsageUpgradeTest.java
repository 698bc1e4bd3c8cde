package com.modelmarket.marketplace.metering;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.modelmarket.billing.metering.UsageOutcome;
import com.modelmarket.billing.metering.UsageRecord;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.TestDatabases;
import com.modelmarket.marketplace.support.TestPlatform;
import com.modelmarket.migrations.Migrations;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upgrade from the per-call usage table (schema 8) to the rollups (migration V9): what was
 * metered before is kept, as rollups, and a journal left by the earlier version is replayed without
 * counting twice a record that had already reached the old table.
 */
@ExtendWith(VertxExtension.class)
@Tag("slow")
class UsageUpgradeTest {

    @Test
    @DisplayName("schema 8 usage is migrated into rollups; a legacy journal replays only what the old table lacked")
    void upgrade(Vertx vertx, @TempDir Path dir) throws Exception {
        DbTarget db = TestDatabases.freshDatabase();
        Flyway.configure(Migrations.class.getClassLoader()).locations(Migrations.LOCATION)
                .dataSource(db.jdbcUrl(), db.user(), db.password()).target("8").load().migrate();
        UUID tenant = UUID.randomUUID();
        UUID model = UUID.randomUUID();
        UUID version = UUID.randomUUID();
        Sql.execute(db, "INSERT INTO tenants (id, name, slug) VALUES (?::uuid, 'Old', 'old-usage')", tenant.toString());
        Instant minute = Instant.parse("2026-11-30T10:15:00Z");
        // three calls metered by the earlier version: two in one minute, one in the next
        List<UsageRecord> old = List.of(
                record("old-1", tenant, model, version, minute.plusSeconds(1)),
                record("old-2", tenant, model, version, minute.plusSeconds(59)),
                record("old-3", tenant, model, version, minute.plusSeconds(61)));
        for (UsageRecord r : old) {
            Sql.execute(db, "INSERT INTO usage_records (request_id, tenant_id, model_id, version_id, items, compute_nanos, outcome, "
                    + "occurred_at) VALUES (?, ?::uuid, ?::uuid, ?::uuid, ?, ?, 'success', ?::timestamptz)",
                    r.requestId(), tenant.toString(), model.toString(), version.toString(), r.items(), r.computeNanos(),
                    r.occurredAt().toString());
        }
        // the earlier version's journal: two records the old table already has, two it never got
        Path data = dir.resolve("data");
        Path journal = data.resolve("usage-journal");
        Files.createDirectories(journal);
        List<UsageRecord> journaled = List.of(old.get(1), old.get(2),
                record("late-1", tenant, model, version, minute.plusSeconds(30)),
                record("late-2", tenant, model, version, minute.plusSeconds(120)));
        Files.write(journal.resolve(String.format("usage-%020d.jsonl", 1)),
                journaled.stream().map(UsageUpgradeTest::jsonLine).toList());

        Map<String, String> overrides = new HashMap<>(TestPlatform.baseOverrides(data));
        overrides.put("db.url", TestDatabases.url(db));
        overrides.put("demo.enabled", "false");
        Platform platform = TestPlatform.start(vertx, overrides);
        try {
            await("the legacy journal is replayed").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .untilAsserted(() -> assertEquals(5, Sql.meteredCalls(db, tenant)));
            assertEquals(3, Sql.count(db, "SELECT coalesce(sum(calls), 0) FROM usage_rollups WHERE tenant_id = ?::uuid "
                    + "AND bucket = ?::timestamptz", tenant.toString(), minute.toString()), "old-1, old-2 and late-1 fell in 10:15");
            assertEquals(1, Sql.count(db, "SELECT coalesce(sum(calls), 0) FROM usage_rollups WHERE tenant_id = ?::uuid "
                    + "AND bucket = ?::timestamptz", tenant.toString(), minute.plusSeconds(60).toString()));
            assertEquals(5 * 7, Sql.count(db, "SELECT coalesce(sum(items), 0) FROM usage_rollups WHERE tenant_id = ?::uuid",
                    tenant.toString()));
            assertEquals(5, Sql.count(db, "SELECT count(*) FROM usage_records_v1"), "legacy records deduplicated by request id");
            Thread.sleep(500);
            assertEquals(5, Sql.meteredCalls(db, tenant), "and nothing more arrives");
        } finally {
            TestPlatform.stop(platform);
        }
    }

    /** A line of the journal's first format (JSON lines, version 1), as the earliest versions wrote it. */
    private static String jsonLine(UsageRecord r) {
        return new io.vertx.core.json.JsonObject().put("v", 1).put("requestId", r.requestId())
                .put("tenantId", r.tenantId().toString()).putNull("apiKeyId").putNull("subscriptionId")
                .put("modelId", r.modelId().toString()).put("modelVersionId", r.modelVersionId().toString())
                .put("items", r.items()).put("computeNanos", r.computeNanos()).put("outcome", r.outcome().name())
                .put("occurredAt", r.occurredAt().toString()).encode();
    }

    private static UsageRecord record(String id, UUID tenant, UUID model, UUID version, Instant at) {
        return new UsageRecord(id, tenant, null, null, model, version, 7, 1_000, UsageOutcome.SUCCESS, at);
    }
}
