package com.modelmarket.billing.metering;

import static com.modelmarket.billing.metering.UsageRecords.usage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsageJournalTest {

    @TempDir
    Path dir;

    private static List<UsageRecord> batch(String prefix, int size) {
        return IntStream.range(0, size).mapToObj(i -> usage(prefix + i)).toList();
    }

    private List<Path> files() throws Exception {
        try (var listing = Files.list(dir)) {
            return listing.sorted().toList();
        }
    }

    @Test
    @DisplayName("records come back from the journal exactly as they went in, one JSON line each")
    void roundTrip() throws Exception {
        List<UsageRecord> records = batch("a-", 5);
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
            journal.open();
            journal.append(records);
            assertEquals(5, journal.pendingRecords());
            UsageJournal.Batch read = journal.oldest().orElseThrow();
            assertEquals(records, read.records());
            assertEquals(0, read.skipped());
        }
        List<String> lines = Files.readAllLines(files().get(0));
        assertEquals(5, lines.size());
        JsonObject first = new JsonObject(lines.get(0));
        assertEquals(1, first.getInteger("v"));
        assertEquals("a-0", first.getString("requestId"));
        assertEquals("2025-04-11T10:00:00.123456789Z", first.getString("occurredAt"));
    }

    @Test
    @DisplayName("a torn last line costs that line only, and a reopened journal writes to a new file")
    void tornTail() throws Exception {
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
            journal.open();
            journal.append(batch("a-", 3));
        }
        Path first = files().get(0);
        Files.write(first, "{\"v\":1,\"requestId\":\"torn".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
            journal.open();
            assertEquals(4, journal.pendingRecords());
            journal.append(batch("b-", 2));
            assertEquals(2, files().size());
            UsageJournal.Batch oldest = journal.oldest().orElseThrow();
            assertEquals(batch("a-", 3), oldest.records());
            assertEquals(1, oldest.skipped());
            journal.remove(oldest);
            assertEquals(2, journal.pendingRecords());
            assertEquals(batch("b-", 2), journal.oldest().orElseThrow().records());
        }
    }

    @Test
    @DisplayName("the journal refuses a batch that would pass its bound and stays as it was")
    void bounded() throws Exception {
        try (UsageJournal journal = new UsageJournal(dir, 2_000, 1_000)) {
            journal.open();
            journal.append(batch("a-", 3));
            long bytes = journal.pendingBytes();
            assertTrue(bytes > 0 && bytes < 2_000);
            assertThrows(JournalFullException.class, () -> journal.append(batch("b-", 10)));
            assertEquals(bytes, journal.pendingBytes());
            assertEquals(3, journal.pendingRecords());
            long onDisk = 0;
            for (Path file : files()) {
                onDisk += Files.size(file);
            }
            assertEquals(bytes, onDisk);
        }
    }

    @Test
    @DisplayName("files roll at their size bound and are replayed oldest first; taking the active file seals it")
    void rotation() throws Exception {
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1_000)) {
            journal.open();
            for (int i = 0; i < 5; i++) {
                journal.append(batch("f" + i + "-", 3));
            }
            assertEquals(5, files().size());
            List<UsageRecord> replayed = new ArrayList<>();
            while (journal.fileCount() > 0) {
                UsageJournal.Batch oldest = journal.oldest().orElseThrow();
                replayed.addAll(oldest.records());
                journal.remove(oldest);
                journal.append(List.of());
            }
            assertEquals(15, replayed.size());
            assertEquals("f0-0", replayed.get(0).requestId());
            assertEquals("f4-2", replayed.get(14).requestId());
            assertEquals(0, journal.pendingRecords());
            assertTrue(files().isEmpty());
            journal.append(batch("g-", 1));
            assertEquals(1, files().size());
        }
    }
}
