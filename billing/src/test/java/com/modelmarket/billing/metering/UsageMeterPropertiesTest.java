package com.modelmarket.billing.metering;

import static com.modelmarket.billing.metering.UsageRecords.usage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded property test: random meter settings, a sink that at random succeeds, fails, stores and
 * still fails, hangs past the write timeout, answers late or slowly, and a caller that reserves,
 * records and releases at random. Whatever happens, every recorded call reaches the sink exactly
 * once as a distinct id, no released one does, and replaying every journal file (snapshots taken
 * while running) adds nothing. Run one seed with {@code -Dbilling.seed=N}.
 */
class UsageMeterPropertiesTest {

    @TempDir
    Path dir;

    private Vertx vertx;

    @BeforeEach
    void setUp() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    /** A sink whose every answer is drawn from the seed. */
    private UsageSink chaotic(Random random, InMemoryUsageSink store, boolean[] healthy) {
        return records -> {
            int roll;
            int delay;
            synchronized (random) {
                roll = random.nextInt(10);
                delay = 1 + random.nextInt(40);
            }
            if (healthy[0]) {
                return store.write(records);
            }
            List<UsageCommit> copy = List.copyOf(records);
            Promise<Void> answer = Promise.promise();
            switch (roll) {
                case 0, 1 -> answer.fail("down");
                case 2 -> store.write(copy).onComplete(v -> answer.fail("stored, but the answer was lost"));
                case 3 -> { } // hangs: the meter's timeout decides
                case 4 -> vertx.setTimer(300, id -> store.write(copy)); // lands after the timeout, never answers
                default -> vertx.setTimer(delay, id -> store.write(copy).onComplete(answer));
            }
            return answer.future();
        };
    }

    @Test
    @DisplayName("property: recorded == stored exactly, released never stored, refusals only at a full window, journal replays idempotent")
    void meteredEqualsRecorded() throws Exception {
        long base = Long.getLong("billing.seed", System.nanoTime());
        int trials = Integer.getInteger("billing.trials", 6);
        for (int t = 0; t < trials; t++) {
            long seed = base + t;
            try {
                trial(seed, dir.resolve("trial-" + t));
            } catch (AssertionError | Exception e) {
                throw new AssertionError("failed with -Dbilling.seed=" + seed + ": " + e.getMessage(), e);
            }
        }
    }

    private void trial(long seed, Path journal) throws Exception {
        Random random = new Random(seed);
        InMemoryUsageSink store = new InMemoryUsageSink();
        boolean[] healthy = {false};
        int windowRecords = 20 + random.nextInt(400);
        long journalBytes = random.nextBoolean() ? 1L << 20 : 2_000 + random.nextInt(20_000);
        UsageMeterOptions options = new UsageMeterOptions(journal, Duration.ofMillis(1 + random.nextInt(20)),
                random.nextBoolean(), 1 + random.nextInt(64), windowRecords, journalBytes, Math.min(journalBytes, 4_096),
                Duration.ofMillis(5 + random.nextInt(50)), Duration.ofMillis(100), Duration.ofSeconds(5));
        UsageMeter meter = UsageMeter.deploy(vertx, chaotic(random, store, healthy), options).await(5, TimeUnit.SECONDS);
        Set<String> recorded = new HashSet<>();
        Set<String> released = new HashSet<>();
        List<UsageMeter.Reservation> open = new ArrayList<>();
        List<Path> snapshots = new ArrayList<>();
        int calls = 1_000 + random.nextInt(3_000);
        for (int i = 0; i < calls; i++) {
            int before = (int) meter.stats().window();
            Optional<UsageMeter.Reservation> slot = meter.tryReserve();
            if (slot.isEmpty()) {
                // the window only shrinks on its own, so a refusal means it was full at the moment of asking
                assertTrue(before + open.size() >= 0 && meter.stats().refused() > 0);
                assertTrue(before >= windowRecords || meter.stats().window() < windowRecords,
                        "refused at " + before + " of " + windowRecords);
                Thread.sleep(1); // a refused caller backs off (paces the generator), as a client would
                continue;
            }
            open.add(slot.get());
            if (open.size() > random.nextInt(8)) {
                UsageMeter.Reservation next = open.remove(random.nextInt(open.size()));
                String id = "s" + seed + "-" + i;
                if (random.nextInt(10) == 0) {
                    next.release();
                    released.add(id);
                } else {
                    next.record(usage(id));
                    recorded.add(id);
                }
            }
            if (random.nextInt(500) == 0) {
                snapshots.add(snapshot(journal, snapshots.size()));
            }
            if (random.nextInt(200) == 0) {
                Thread.sleep(random.nextInt(30)); // random pauses in the load, not a wait for a condition
            }
        }
        open.forEach(UsageMeter.Reservation::release);
        healthy[0] = true;
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                .until(() -> store.uniqueCount() >= recorded.size() && meter.stats().window() == 0);
        assertEquals(recorded.size(), meter.stats().accepted());
        assertEquals(0, meter.stats().window(), meter.stats().toString());
        assertStored(store, recorded, released);
        meter.close().await(10, TimeUnit.SECONDS);
        assertEquals(0, meter.stats().lostAtClose());

        // Replay every snapshot of the journal into the same store: nothing new, nothing counted twice.
        for (Path snapshot : snapshots) {
            UsageMeter replay = UsageMeter.deploy(vertx, store, UsageMeterOptions.defaults(snapshot)).await(5, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                    .untilAsserted(() -> assertEquals(0, replay.stats().journaled()));
            replay.close().await(10, TimeUnit.SECONDS);
        }
        assertStored(store, recorded, released);
    }

    private static void assertStored(InMemoryUsageSink store, Set<String> recorded, Set<String> released) {
        Set<String> stored = new HashSet<>();
        store.records().forEach(r -> stored.add(r.requestId()));
        assertEquals(recorded, stored, "stored ids must be exactly the recorded ones");
        assertEquals(stored.size(), store.countedCount(), "a record was counted twice");
        for (String id : released) {
            assertTrue(!stored.contains(id), "a released call was metered: " + id);
        }
    }

    private static Path snapshot(Path journal, int n) throws Exception {
        Path copy = journal.resolveSibling(journal.getFileName() + "-snapshot-" + n);
        Files.createDirectories(copy);
        if (Files.exists(journal)) {
            try (var files = Files.list(journal)) {
                for (Path file : files.toList()) {
                    try {
                        Files.copy(file, copy.resolve(file.getFileName()));
                    } catch (java.nio.file.NoSuchFileException deleted) {
                        // confirmed and deleted while copying
                    }
                }
            }
        }
        return copy;
    }
}
