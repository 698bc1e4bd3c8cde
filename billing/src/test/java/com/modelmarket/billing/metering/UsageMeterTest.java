package com.modelmarket.billing.metering;

import static com.modelmarket.billing.metering.UsageRecords.usage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.modelmarket.billing.metering.InMemoryUsageSink.Mode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsageMeterTest {

    @TempDir
    Path journalDir;

    private Vertx vertx;
    private InMemoryUsageSink sink;

    @BeforeEach
    void setUp() {
        vertx = Vertx.vertx();
        sink = new InMemoryUsageSink();
    }

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    /** Quick timings; a test that needs another value says so. */
    private UsageMeterOptions options() {
        return UsageMeterOptions.defaults(journalDir)
                .withFlushInterval(Duration.ofMillis(50))
                .withBatchSize(50)
                .withRetryInterval(Duration.ofMillis(100))
                .withWriteTimeout(Duration.ofMillis(500))
                .withCloseTimeout(Duration.ofSeconds(5));
    }

    private UsageMeter start(UsageSink usageSink, UsageMeterOptions options) throws Exception {
        return UsageMeter.deploy(vertx, usageSink, options).await(5, TimeUnit.SECONDS);
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.await(10, TimeUnit.SECONDS);
    }

    private static void eventually(BooleanSupplier condition, Supplier<String> state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("condition not reached within 10 s; state: " + state.get());
            }
            Thread.sleep(10);
        }
    }

    private long journalLines() throws Exception {
        long lines = 0;
        try (var files = Files.list(journalDir)) {
            for (Path file : files.toList()) {
                lines += Files.readAllLines(file).size();
            }
        }
        return lines;
    }

    private static void assertConserved(UsageMeterStats stats) {
        assertEquals(stats.recorded(), stats.written() + stats.journaled() + stats.buffered() + stats.dropped(), stats::toString);
    }

    @Test
    @DisplayName("a full batch is flushed at once, without waiting for the timer")
    void flushByCount() throws Exception {
        UsageMeter meter = start(sink, options().withBatchSize(10).withFlushInterval(Duration.ofHours(1)));
        for (int i = 0; i < 25; i++) {
            meter.record(usage("r-" + i));
        }
        eventually(() -> meter.stats().written() == 20, () -> meter.stats().toString());
        Thread.sleep(100);
        assertEquals(20, sink.uniqueCount(), "the partial batch waits for the timer");
        assertEquals(5, meter.stats().buffered());
        await(meter.close());
        assertEquals(25, sink.uniqueCount());
    }

    @Test
    @DisplayName("a partial batch is flushed when the flush interval passes")
    void flushByTime() throws Exception {
        UsageMeter meter = start(sink, options().withBatchSize(500).withFlushInterval(Duration.ofMillis(100)));
        for (int i = 0; i < 7; i++) {
            meter.record(usage("r-" + i));
        }
        eventually(() -> meter.stats().written() == 7, () -> meter.stats().toString());
        assertEquals(7, sink.uniqueCount());
        assertEquals(7, meter.stats().written());
        assertEquals(0, meter.stats().buffered());
    }

    @Test
    @DisplayName("while the sink is down usage goes to the journal, and when it is back the journal is replayed with nothing lost")
    void outageAndReplay() throws Exception {
        sink.mode(Mode.FAILING);
        UsageMeter meter = start(sink, options());
        Thread producerA = new Thread(() -> produce(meter, "a-", 500));
        Thread producerB = new Thread(() -> produce(meter, "b-", 500));
        producerA.start();
        producerB.start();
        producerA.join();
        producerB.join();
        eventually(() -> meter.stats().journaled() == 1_000 && meter.stats().buffered() == 0, () -> meter.stats().toString());
        assertEquals(1_000, journalLines());
        assertEquals(0, sink.uniqueCount());
        assertTrue(!meter.stats().sinkAvailable() || sink.failedWrites() > 0);

        sink.mode(Mode.UP);
        eventually(() -> meter.stats().written() == 1_000 && meter.stats().journaled() == 0, () -> meter.stats().toString());
        assertEquals(1_000, sink.uniqueCount());
        for (int i = 0; i < 500; i++) {
            assertTrue(sink.contains("a-" + i) && sink.contains("b-" + i));
        }
        UsageMeterStats stats = meter.stats();
        assertEquals(1_000, stats.written());
        assertEquals(1_000, stats.replayed());
        assertEquals(0, stats.dropped());
        assertConserved(stats);
        try (var files = Files.list(journalDir)) {
            assertEquals(0, files.count(), "replayed journal files are deleted");
        }
    }

    private static void produce(UsageMeter meter, String prefix, int count) {
        for (int i = 0; i < count; i++) {
            meter.record(usage(prefix + i));
            if (i % 100 == 0) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    @Test
    @DisplayName("a flaky sink that sometimes stores a batch and still reports failure loses nothing and keeps no duplicates")
    void flakySink() throws Exception {
        long seed = Long.getLong("billing.seed", System.nanoTime());
        Random random = new Random(seed);
        UsageSink flaky = records -> {
            int roll;
            synchronized (random) {
                roll = random.nextInt(10);
            }
            if (roll < 3) {
                return Future.failedFuture(new IllegalStateException("down"));
            }
            if (roll < 5) {
                // Stored, but the answer is lost: the meter journals the batch and replays duplicates later.
                return sink.write(records).compose(v -> Future.failedFuture(new IllegalStateException("lost answer")));
            }
            return sink.write(records);
        };
        UsageMeter meter = start(flaky, options().withBatchSize(20).withRetryInterval(Duration.ofMillis(20)));
        int produced = 2_000;
        for (int i = 0; i < produced; i++) {
            meter.record(usage("r-" + i));
            if (i % 200 == 0) {
                Thread.sleep(20);
            }
        }
        await(meter.close());
        assertConserved(meter.stats());
        assertEquals(0, meter.stats().dropped(), "seed " + seed);

        // A new meter over the same journal with a healthy sink delivers the rest.
        UsageMeter next = start(sink, options());
        eventually(() -> next.stats().journaled() == 0, () -> next.stats().toString());
        assertEquals(produced, sink.uniqueCount(), "seed " + seed);
        for (int i = 0; i < produced; i++) {
            assertTrue(sink.contains("r-" + i), "seed " + seed);
        }
        assertTrue(sink.receivedCount() >= produced);
    }

    @Test
    @DisplayName("close() flushes everything in memory to the sink")
    void closeFlushes() throws Exception {
        UsageMeter meter = start(sink, options().withBatchSize(500).withFlushInterval(Duration.ofHours(1)));
        for (int i = 0; i < 123; i++) {
            meter.record(usage("r-" + i));
        }
        await(meter.close());
        assertEquals(123, sink.uniqueCount());
        assertEquals(123, meter.stats().written());
        meter.record(usage("late"));
        assertEquals(1, meter.stats().dropped(), "records after close are counted as dropped");
    }

    @Test
    @DisplayName("closing Vert.x undeploys the meter, which flushes it")
    void vertxCloseFlushes() throws Exception {
        UsageMeter meter = start(sink, options().withBatchSize(500).withFlushInterval(Duration.ofHours(1)));
        for (int i = 0; i < 42; i++) {
            meter.record(usage("r-" + i));
        }
        vertx.close().await(10, TimeUnit.SECONDS);
        assertEquals(42, sink.uniqueCount());
        assertEquals(42, meter.stats().written());
    }

    @Test
    @DisplayName("close() with the sink down journals everything, and the next meter replays it")
    void closeJournalsWhenSinkDown() throws Exception {
        sink.mode(Mode.FAILING);
        UsageMeter meter = start(sink, options().withFlushInterval(Duration.ofHours(1)).withBatchSize(500));
        for (int i = 0; i < 123; i++) {
            meter.record(usage("r-" + i));
        }
        await(meter.close());
        assertEquals(123, meter.stats().journaled());
        assertEquals(123, journalLines());

        sink.mode(Mode.UP);
        UsageMeter next = start(sink, options());
        assertEquals(123, next.stats().journaled());
        eventually(() -> sink.uniqueCount() == 123 && next.stats().journaled() == 0, () -> next.stats().toString());
        assertEquals(0, journalLines());
    }

    @Test
    @DisplayName("with the sink down and the journal full, memory stays bounded and the overflow is counted as dropped")
    void bounded() throws Exception {
        sink.mode(Mode.FAILING);
        // Room for exactly the first two batches of ten.
        long maxJournalBytes = 0;
        for (int i = 0; i < 20; i++) {
            maxJournalBytes += UsageRecordJson.encode(usage("r-" + i)).getBytes(StandardCharsets.UTF_8).length + 1;
        }
        UsageMeter meter = start(sink, options().withBatchSize(10).withMaxBuffered(100)
                .withJournalBounds(maxJournalBytes, 2_048));
        for (int i = 0; i < 2_000; i++) {
            meter.record(usage("r-" + i));
        }
        eventually(() -> meter.stats().journaled() == 20 && meter.stats().journaled() + meter.stats().buffered() + meter.stats().dropped() == 2_000,
                () -> meter.stats().toString());
        // The journal is full and the sink down: from here on memory only fills up.
        for (int i = 0; i < 2_000; i++) {
            meter.record(usage("s-" + i));
        }
        UsageMeterStats stats = meter.stats();
        assertEquals(100, stats.buffered(), stats::toString);
        assertEquals(4_000 - 100 - 20, stats.dropped(), stats::toString);
        assertConserved(stats);
        long onDisk = 0;
        try (var files = Files.list(journalDir)) {
            for (Path file : files.toList()) {
                onDisk += Files.size(file);
            }
        }
        assertEquals(maxJournalBytes, onDisk);

        // When the sink is back, what was kept in memory and in the journal arrives; the dropped records do not.
        sink.mode(Mode.UP);
        eventually(() -> meter.stats().written() == 120 && meter.stats().journaled() == 0 && meter.stats().buffered() == 0,
                () -> meter.stats().toString());
        assertEquals(120, sink.uniqueCount());
        assertConserved(meter.stats());
    }

    @Test
    @DisplayName("record() returns at once even when the sink hangs, and close() still ends in bounded time")
    void neverBlocks() throws Exception {
        sink.mode(Mode.HANGING);
        UsageMeter meter = start(sink, options().withBatchSize(100).withWriteTimeout(Duration.ofMillis(200))
                .withRetryInterval(Duration.ofHours(1)).withCloseTimeout(Duration.ofSeconds(2)));
        long started = System.nanoTime();
        for (int i = 0; i < 5_000; i++) {
            meter.record(usage("r-" + i));
        }
        meter.record(null);
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(elapsedMillis < 1_000, "5,000 record() calls took " + elapsedMillis + " ms");
        eventually(() -> meter.stats().journaled() == 5_000, () -> meter.stats().toString());
        long closing = System.nanoTime();
        await(meter.close());
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing) < 2_500);
        UsageMeterStats stats = meter.stats();
        assertEquals(1, stats.dropped(), "the null record");
        assertConserved(stats);
    }

    @Test
    @DisplayName("close() gives up at its deadline when the sink never answers, counting what is left as dropped")
    void closeDeadline() throws Exception {
        sink.mode(Mode.HANGING);
        UsageMeter meter = start(sink, options().withBatchSize(10).withFlushInterval(Duration.ofHours(1))
                .withWriteTimeout(Duration.ofSeconds(30)).withCloseTimeout(Duration.ofMillis(300)));
        for (int i = 0; i < 9; i++) {
            meter.record(usage("r-" + i));
        }
        for (int i = 0; i < 100; i++) {
            meter.record(usage("s-" + i));
        }
        long closing = System.nanoTime();
        await(meter.close());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing);
        assertTrue(millis < 2_000, "close took " + millis + " ms");
        UsageMeterStats stats = meter.stats();
        assertTrue(stats.dropped() > 0, stats::toString);
        assertEquals(List.of(), sink.records());
    }
}
