package com.modelmarket.marketplace.metering;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import com.modelmarket.billing.metering.UsageMeter;
import com.modelmarket.billing.metering.UsageMeterOptions;
import com.modelmarket.billing.metering.UsageOutcome;
import com.modelmarket.billing.metering.UsageRecord;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.TestDatabases;
import com.modelmarket.marketplace.support.TestPlatform;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The intake's sustained rate into PostgreSQL: records pushed through a {@link UsageMeter} (journal
 * with group commit, then {@link PgUsageSink}) as fast as the meter lets them in, until every row
 * is counted in {@code usage_rollups}. Not part of the test command; run it pinned to one core, the
 * embedded PostgreSQL (a child of this JVM) on the same one:
 *
 * <pre>taskset -c 1 mvn -B -ntp -o -pl marketplace -am test -Dtest=UsageIntakeBench -Dmm.metering.bench=true \
 *     -Dsurefire.failIfNoSpecifiedTests=false [-Dmm.bench.records=1000000]</pre>
 */
@EnabledIfSystemProperty(named = "mm.metering.bench", matches = "true")
class UsageIntakeBench {

    @Test
    @DisplayName("bench: records/s sustained from the meter into the usage rollups")
    void intake() throws Exception {
        int total = Integer.getInteger("mm.bench.records", 1_000_000);
        Vertx vertx = Vertx.vertx();
        DbTarget db = TestDatabases.freshDatabase();
        Path data = Files.createTempDirectory("mm-intake");
        Map<String, String> overrides = new java.util.HashMap<>(TestPlatform.baseOverrides(data));
        overrides.put("db.url", TestDatabases.url(db));
        overrides.put("demo.enabled", "false");
        Platform platform = TestPlatform.start(vertx, overrides);
        try {
            UUID tenant = UUID.randomUUID();
            Sql.execute(db, "INSERT INTO tenants (id, name, slug) VALUES ('" + tenant + "', 'Bench', 'bench-" + tenant.toString().substring(0, 8) + "')");
            PgUsageSink sink = new PgUsageSink(vertx, platform.services().database().appConnectOptions(),
                    platform.services().config().usageBuckets());
            UsageMeterOptions options = platform.services().config().meteringOptions().withGroupCommitInterval(
                    java.time.Duration.ofMillis(50));
            options = new UsageMeterOptions(data.resolve("bench-journal"), options.groupCommitInterval(), false,
                    options.batchSize(), options.windowRecords(), options.maxJournalBytes(), options.maxJournalFileBytes(),
                    options.retryInterval(), options.writeTimeout(), options.closeTimeout());
            UsageMeter meter = UsageMeter.deploy(vertx, sink, options).await(10, TimeUnit.SECONDS);
            UUID model = UUID.randomUUID();
            UUID version = UUID.randomUUID();
            UUID key = UUID.randomUUID();
            UUID subscription = UUID.randomUUID();
            long refusedSpins = 0;
            long started = System.nanoTime();
            for (int i = 0; i < total; i++) {
                Optional<UsageMeter.Reservation> slot;
                while ((slot = meter.tryReserve()).isEmpty()) {
                    refusedSpins++;
                    java.util.concurrent.locks.LockSupport.parkNanos(200_000); // the window is full: let the intake work
                }
                slot.get().record(new UsageRecord("bench-" + i, tenant, key, subscription, model, version, 1, 100_000,
                        UsageOutcome.SUCCESS, Instant.now()));
            }
            long offered = System.nanoTime();
            await("every record written").atMost(Duration.ofMinutes(30)).pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(5)).until(() -> meter.stats().written() >= total && meter.stats().window() == 0);
            long done = System.nanoTime();
            double seconds = (done - started) / 1e9;
            System.out.printf("INTAKE records=%d seconds=%.2f records_per_s=%.0f offered_in=%.2fs refusals=%d sink_writes=%d "
                            + "mean_write_ms=%.1f batch=%d group_commit_ms=%d%n",
                    total, seconds, total / seconds, (offered - started) / 1e9, meter.stats().refused(), meter.stats().sinkWrites(),
                    meter.stats().sinkWriteNanos() / 1e6 / Math.max(1, meter.stats().sinkWrites()), options.batchSize(),
                    options.groupCommitInterval().toMillis());
            assertEquals(total, Sql.meteredCalls(db));
            meter.close().await(30, TimeUnit.SECONDS);
            sink.close().await(10, TimeUnit.SECONDS);
        } finally {
            TestPlatform.stop(platform);
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }
}
