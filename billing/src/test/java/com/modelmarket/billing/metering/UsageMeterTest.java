package com.modelmarket.billing.metering;

import static com.modelmarket.billing.metering.UsageRecords.usage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.billing.metering.InMemoryUsageSink.Mode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.awaitility.Awaitility;

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
                .withGroupCommitInterval(Duration.ofMillis(10))
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

    /** Waits up to 15 s for the condition; the failure names the meter's state. */
    static void eventually(BooleanSupplier condition, Supplier<String> state) {
        Awaitility.await().atMost(Duration.ofSeconds(15)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5))
                .untilAsserted(() -> assertTrue(condition.getAsBoolean(), () -> "condition not reached; state: " + state.get()));
    }

    /** Meters one call; fails the test if the meter refuses it. */
    static Future<Void> meter(UsageMeter meter, String requestId) {
        return meter.tryReserve().orElseThrow(() -> new AssertionError("refused " + requestId + ": " + meter.stats()))
                .record(usage(requestId));
    }

    private long journalFiles() throws Exception {
        try (var files = Files.list(journalDir)) {
            return files.count();
        }
    }

    @Test
    @DisplayName("every accepted record reaches the sink once, from two threads; the window empties and close leaves no journal")
    void deliversEverything() throws Exception {
        UsageMeter meter = start(sink, options());
        Thread a = new Thread(() -> produce(meter, "a-", 2_000));
        Thread b = new Thread(() -> produce(meter, "b-", 2_000));
        a.start();
        b.start();
        a.join();
        b.join();
        eventually(() -> sink.uniqueCount() == 4_000 && meter.stats().window() == 0, () -> meter.stats().toString());
        UsageMeterStats stats = meter.stats();
        assertEquals(4_000, stats.accepted());
        assertEquals(4_000, stats.durable());
        assertEquals(0, stats.refused());
        assertTrue(stats.sinkWrites() > 0 && stats.sinkWriteNanos() > 0);
        await(meter.close());
        assertEquals(0, journalFiles(), "a closed meter whose sink has everything leaves no journal");
        assertEquals(0, meter.stats().lostAtClose());
    }

    private static void produce(UsageMeter meter, String prefix, int count) {
        for (int i = 0; i < count; i++) {
            meter(meter, prefix + i);
        }
    }

    @Test
    @DisplayName("while the sink is down the window stays free (usage waits in the journal), and when it is back the journal is replayed")
    void outageAndReplay() throws Exception {
        sink.mode(Mode.FAILING);
        UsageMeter meter = start(sink, options().withWindowRecords(300));
        for (int i = 0; i < 3_000; i++) {
            // ten times the window: it must drain into the journal. A machine too busy to fsync at this
            // pace may refuse a call for a moment; the window must then free up with the sink still down.
            java.util.Optional<UsageMeter.Reservation> slot = meter.tryReserve();
            if (slot.isEmpty()) {
                eventually(() -> meter.stats().window() < 300, () -> meter.stats().toString());
                slot = meter.tryReserve();
            }
            int n = i;
            slot.orElseThrow(() -> new AssertionError("refused r-" + n + " after the window drained: " + meter.stats()))
                    .record(usage("r-" + i));
        }
        eventually(() -> meter.stats().journaled() == 3_000 && meter.stats().window() == 0, () -> meter.stats().toString());
        assertEquals(0, sink.uniqueCount());

        sink.mode(Mode.UP);
        eventually(() -> sink.uniqueCount() == 3_000 && meter.stats().journaled() == 0, () -> meter.stats().toString());
        UsageMeterStats stats = meter.stats();
        assertEquals(3_000, stats.accepted());
        // none on an idle machine; a few while a busy one was slow to fsync, never a lasting refusal
        assertTrue(stats.refused() < 100, "refusals only while a busy machine fsynced: " + stats);
        assertTrue(stats.replayed() >= 3_000 - 50, stats::toString);
        await(meter.close());
        assertEquals(0, journalFiles(), "replayed journal files are deleted");
    }

    @Test
    @DisplayName("a slow sink: durable records are let go to the journal instead of filling the window; nothing is refused or lost")
    void slowSink() throws Exception {
        UsageSink slow = records -> {
            Promise<Void> done = Promise.promise();
            vertx.setTimer(40, id -> sink.write(records).onComplete(done));
            return done.future();
        };
        UsageMeter meter = start(slow, options().withWindowRecords(5_000).withBatchSize(20));
        for (int i = 0; i < 4_000; i++) {
            meter(meter, "r-" + i);
            if (i % 50 == 0) {
                Thread.sleep(2); // well below the window per group commit: what a slow sink must not make refused
            }
        }
        eventually(() -> sink.uniqueCount() == 4_000 && meter.stats().window() == 0, () -> meter.stats().toString());
        assertEquals(0, meter.stats().refused());
        assertTrue(meter.stats().replayed() > 0, "the journal carried part of it: " + meter.stats());
    }

    @Test
    @DisplayName("a sink that hangs (writes time out) and then answers late: nothing lost, nothing twice")
    void hangingThenLate() throws Exception {
        List<Promise<Void>> hanging = new ArrayList<>();
        boolean[] hang = {true};
        UsageSink sometimes = records -> {
            if (hang[0]) {
                Promise<Void> late = Promise.promise();
                List<UsageCommit> copy = List.copyOf(records);
                synchronized (hanging) {
                    hanging.add(late);
                }
                // the answer comes long after the meter gave up, and the rows did land
                return late.future().compose(v -> sink.write(copy));
            }
            return sink.write(records);
        };
        UsageMeter meter = start(sometimes, options().withWriteTimeout(Duration.ofMillis(100)));
        for (int i = 0; i < 500; i++) {
            meter(meter, "r-" + i);
        }
        // the writes hung past the write timeout: the meter gave up on them, every record waits in the journal
        eventually(() -> !meter.stats().sinkAvailable() && meter.stats().journaled() == 500 && meter.stats().window() == 0,
                () -> meter.stats().toString());
        synchronized (hanging) {
            assertFalse(hanging.isEmpty(), "the sink's writes hung");
        }
        assertEquals(0, sink.uniqueCount(), "nothing reached the store while the sink hung");
        hang[0] = false;
        synchronized (hanging) {
            hanging.forEach(Promise::complete);
        }
        eventually(() -> sink.uniqueCount() == 500 && meter.stats().journaled() == 0, () -> meter.stats().toString());
        assertEquals(500, sink.uniqueCount());
        assertEquals(500, sink.countedCount(), "counted once although written more than once");
        assertTrue(sink.receivedCount() > 500, "the late answers and the replay both sent rows; stored once");
    }

    @Test
    @DisplayName("refusals begin exactly when the window is full (sink down, journal full) and end when it drains")
    void refusesExactlyWhenFull() throws Exception {
        sink.mode(Mode.FAILING);
        // a journal too small for any commit: nothing becomes durable while the sink is down
        UsageMeter meter = start(sink, options().withWindowRecords(200).withJournalBounds(64, 64));
        List<UsageMeter.Reservation> open = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            meter(meter, "r-" + i);
        }
        for (int i = 0; i < 50; i++) {
            open.add(meter.tryReserve().orElseThrow(() -> new AssertionError("refused below the bound: " + meter.stats())));
        }
        assertEquals(200, meter.stats().window());
        assertTrue(meter.tryReserve().isEmpty(), "the 201st is refused");
        assertTrue(meter.stats().backPressure());
        open.remove(0).release();
        Optional<UsageMeter.Reservation> again = meter.tryReserve();
        assertTrue(again.isPresent(), "a released slot is free again");
        assertTrue(meter.tryReserve().isEmpty());
        again.get().release();
        open.forEach(UsageMeter.Reservation::release);
        assertEquals(150, meter.stats().window(), "the accepted records hold their slots: none was dropped");
        assertEquals(2, meter.stats().refused());
        Awaitility.await("nothing leaves the window while it cannot become durable").during(Duration.ofMillis(300))
                .atMost(Duration.ofSeconds(2)).untilAsserted(() -> assertEquals(150, meter.stats().window()));

        sink.mode(Mode.UP); // the refused commits go straight to the sink
        eventually(() -> sink.uniqueCount() == 150 && meter.stats().window() == 0, () -> meter.stats().toString());
        eventually(() -> !meter.stats().backPressure(), () -> meter.stats().toString());
        assertEquals(150, meter.stats().durable());
        assertTrue(meter.tryReserve().isPresent());
    }

    @Test
    @DisplayName("a reservation is filled or released once")
    void reservationOnce() throws Exception {
        UsageMeter meter = start(sink, options().withWindowRecords(1));
        UsageMeter.Reservation slot = meter.tryReserve().orElseThrow();
        slot.record(usage("x"));
        slot.release(); // ignored: it was filled
        assertThrows(IllegalStateException.class, () -> slot.record(usage("y")));
        eventually(() -> sink.uniqueCount() == 1 && meter.stats().window() == 0, () -> meter.stats().toString());
    }

    @Test
    @DisplayName("answering after the fsync: the record's future completes only once it is durable")
    void ackAfterFsync() throws Exception {
        sink.mode(Mode.FAILING);
        UsageMeter meter = start(sink, options().withAckAfterFsync(true).withJournalBounds(64, 64));
        Future<Void> ack = meter(meter, "r-1");
        Awaitility.await("neither the journal nor the sink has it").during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2))
                .until(() -> !ack.isComplete());
        sink.mode(Mode.UP);
        await(ack);
        assertTrue(sink.contains("r-1"));

        await(meter.close());
    }

    @Test
    @DisplayName("answering after the fsync: with a working journal the future completes at its group commit, the sink down")
    void ackAtGroupCommit(@TempDir Path other) throws Exception {
        UsageMeter meter = start(new InMemoryUsageSink().mode(Mode.FAILING), new UsageMeterOptions(other,
                Duration.ofMillis(5), true, 50, 1_000, 1 << 20, 1 << 20, Duration.ofSeconds(10), Duration.ofMillis(500),
                Duration.ofSeconds(5)));
        for (int i = 0; i < 20; i++) {
            long durableBefore = meter.stats().durable();
            await(meter(meter, "r-" + i));
            assertTrue(meter.stats().durable() > durableBefore, "completed after its group commit");
        }
    }

    @Test
    @DisplayName("what counted as durable survives a crash: a copy of the journal taken while running is replayed in full")
    void durableSurvivesCrash(@TempDir Path crashed) throws Exception {
        sink.mode(Mode.HANGING);
        UsageMeter meter = start(sink, options().withWriteTimeout(Duration.ofSeconds(30)));
        for (int i = 0; i < 1_000; i++) {
            meter(meter, "r-" + i);
        }
        eventually(() -> meter.stats().durable() == 1_000, () -> meter.stats().toString());
        try (var files = Files.list(journalDir)) { // the process dies here: the disk is what is left
            for (Path file : files.toList()) {
                Files.copy(file, crashed.resolve(file.getFileName()));
            }
        }
        InMemoryUsageSink after = new InMemoryUsageSink();
        UsageMeter fromCopy = start(after, new UsageMeterOptions(crashed, Duration.ofMillis(10), false, 50, 1_000,
                1 << 20, 1 << 20, Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(5)));
        eventually(() -> after.uniqueCount() == 1_000 && fromCopy.stats().journaled() == 0, () -> fromCopy.stats().toString());
    }

    @Test
    @DisplayName("close() commits and writes everything in memory; records after close are refused, not taken")
    void closeFlushes() throws Exception {
        UsageMeter meter = start(sink, options().withGroupCommitInterval(Duration.ofHours(1)));
        for (int i = 0; i < 123; i++) {
            meter(meter, "r-" + i);
        }
        await(meter.close());
        assertEquals(123, sink.uniqueCount());
        assertEquals(0, journalFiles());
        assertTrue(meter.tryReserve().isEmpty(), "a closed meter lets no call through");
    }

    @Test
    @DisplayName("closing Vert.x undeploys the meter, which flushes it")
    void vertxCloseFlushes() throws Exception {
        UsageMeter meter = start(sink, options().withGroupCommitInterval(Duration.ofHours(1)));
        for (int i = 0; i < 42; i++) {
            meter(meter, "r-" + i);
        }
        vertx.close().await(10, TimeUnit.SECONDS);
        assertEquals(42, sink.uniqueCount());
    }

    @Test
    @DisplayName("close() with the sink down leaves everything in the journal, and the next meter replays it")
    void closeJournalsWhenSinkDown() throws Exception {
        sink.mode(Mode.FAILING);
        UsageMeter meter = start(sink, options().withGroupCommitInterval(Duration.ofHours(1)));
        for (int i = 0; i < 123; i++) {
            meter(meter, "r-" + i);
        }
        await(meter.close());
        assertEquals(0, meter.stats().lostAtClose());

        sink.mode(Mode.UP);
        UsageMeter next = start(sink, options());
        assertEquals(123, next.stats().journaled());
        eventually(() -> sink.uniqueCount() == 123 && next.stats().journaled() == 0, () -> next.stats().toString());
        await(next.close());
        assertEquals(0, journalFiles());
    }

    @Test
    @DisplayName("reserving and recording return at once even when the sink hangs, and close() still ends in bounded time, losing nothing")
    void neverBlocks() throws Exception {
        sink.mode(Mode.HANGING);
        UsageMeter meter = start(sink, options().withWriteTimeout(Duration.ofSeconds(30))
                .withRetryInterval(Duration.ofHours(1)).withCloseTimeout(Duration.ofMillis(500)));
        long started = System.nanoTime();
        for (int i = 0; i < 5_000; i++) {
            meter(meter, "r-" + i);
        }
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(elapsedMillis < 1_000, "5,000 calls took " + elapsedMillis + " ms");
        long closing = System.nanoTime();
        await(meter.close());
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing) < 2_500);
        assertEquals(0, meter.stats().lostAtClose(), meter.stats()::toString);

        InMemoryUsageSink healthy = new InMemoryUsageSink();
        UsageMeter next = start(healthy, options());
        eventually(() -> healthy.uniqueCount() == 5_000, () -> next.stats().toString());
    }
}
