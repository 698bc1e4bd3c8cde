package com.modelmarket.billing.metering;

import static com.modelmarket.billing.metering.UsageRecords.usage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
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

    private static UsageCommit commit(String prefix, int size) {
        return UsageCommit.of(batch(prefix, size));
    }

    private List<Path> files() throws Exception {
        try (var listing = Files.list(dir)) {
            return listing.sorted().toList();
        }
    }

    @Test
    @DisplayName("records come back from a replayed file exactly as they went in, after the format's header")
    void roundTrip() throws Exception {
        List<UsageRecord> records = batch("a-", 5);
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
            journal.open();
            long sequence = journal.append(UsageCommit.of(records));
            assertEquals(5, journal.pendingRecords());
            assertTrue(journal.oldestToReplay().isEmpty(), "a file is replayed only once marked");
            journal.markForReplay(sequence);
            UsageJournal.Batch read = journal.oldestToReplay().orElseThrow();
            assertEquals(records, read.records());
            assertEquals(0, read.tornBytes());
        }
        byte[] bytes = Files.readAllBytes(files().get(0));
        assertEquals("MMUSAGE2", new String(bytes, 0, 8, StandardCharsets.US_ASCII));
    }

    @Test
    @DisplayName("a torn last frame costs that frame only; files found on open are all replayed; a reopened journal writes to a new file")
    void tornTail() throws Exception {
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
            journal.open();
            journal.append(commit("a-", 3));
            journal.append(commit("b-", 2));
        }
        Path file = files().get(0);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 7);
        }
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
            journal.open();
            UsageJournal.Batch read = journal.oldestToReplay().orElseThrow();
            assertEquals(batch("a-", 3), read.records());
            assertTrue(read.tornBytes() > 0);
            journal.append(commit("c-", 1));
            assertEquals(2, files().size(), "appends go to a new file");
            journal.remove(read);
            assertEquals(1, files().size());
        }
    }

    @Test
    @DisplayName("a corrupted frame (checksum) ends the file's reading there")
    void corruptFrame() throws Exception {
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
            journal.open();
            journal.append(commit("a-", 2));
            journal.append(commit("b-", 2));
        }
        Path file = files().get(0);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 3] ^= 0x55;
        Files.write(file, bytes);
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
            journal.open();
            assertEquals(batch("a-", 2), journal.oldestToReplay().orElseThrow().records());
        }
    }

    @Test
    @DisplayName("the journal refuses a commit that would pass its bound and stays as it was")
    void bounded() throws Exception {
        try (UsageJournal journal = new UsageJournal(dir, 600, 600)) {
            journal.open();
            journal.append(commit("a-", 2));
            long before = Files.size(files().get(0));
            assertThrows(JournalFullException.class, () -> journal.append(commit("b-", 10)));
            assertEquals(before, Files.size(files().get(0)));
            assertEquals(2, journal.pendingRecords());
            assertEquals(before, journal.pendingBytes());
        }
    }

    @Test
    @DisplayName("a sealed file the sink has whole is deleted; the active one goes at close once confirmed")
    void confirmedFilesGo() throws Exception {
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1_000)) {
            journal.open();
            long first = journal.append(commit("a-", 5));
            journal.confirm(first, 5);
            assertEquals(1, files().size(), "the active file stays until sealed");
            long second = journal.append(commit("b-", 5)); // passes 1,000 bytes: a new file, the first sealed and deleted
            assertTrue(second > first);
            assertEquals(1, files().size());
            journal.confirm(second, 4);
            journal.close();
            assertEquals(1, files().size(), "one record of it is not confirmed");
        }
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1_000)) {
            journal.open();
            assertEquals(5, journal.pendingRecords(), "files of an earlier run are replayed whole");
            assertEquals(1, journal.replayFiles());
        }
    }

    @Test
    @DisplayName("files of the earlier JSON-lines format are replayed")
    void legacyJsonLines() throws Exception {
        List<UsageRecord> records = batch("j-", 3);
        List<String> lines = new ArrayList<>();
        records.forEach(r -> lines.add(UsageRecordJson.encode(r)));
        Files.write(dir.resolve(String.format("usage-%020d.jsonl", 7)), lines);
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
            journal.open();
            assertEquals(3, journal.pendingRecords());
            UsageJournal.Batch read = journal.oldestToReplay().orElseThrow();
            assertEquals(records, read.records());
            assertTrue(read.commits().stream().allMatch(UsageCommit::legacy), "deduplicated by request id, having no commit id");
            long next = journal.append(commit("n-", 1));
            assertEquals(8, next, "sequences continue after the old files");
        }
    }

    @Test
    @DisplayName("a replayed file gives back each commit whole, under the id it was appended with")
    void commitIdsSurviveReplay() throws Exception {
        List<UsageCommit> appended = List.of(commit("a-", 3), commit("b-", 1), commit("c-", 4));
        try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
            journal.open();
            for (UsageCommit c : appended) {
                journal.append(c);
            }
        }
        for (int run = 0; run < 2; run++) {
            try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
                journal.open();
                UsageJournal.Batch read = journal.oldestToReplay().orElseThrow();
                assertEquals(appended, read.commits(), "run " + run);
            }
        }
    }

    @Test
    @DisplayName("files of the first binary format (frames without commit ids) are replayed as legacy commits with ids derived from their bytes")
    void legacyBinaryFrames() throws Exception {
        List<UsageRecord> first = batch("v1a-", 2);
        List<UsageRecord> second = batch("v1b-", 3);
        java.io.ByteArrayOutputStream file = new java.io.ByteArrayOutputStream();
        file.write(UsageRecordCodec.FILE_HEADER_V1);
        file.write(v1Frame(first));
        file.write(v1Frame(second));
        Files.write(dir.resolve(String.format("usage-%020d.journal", 3)), file.toByteArray());
        List<UsageCommit> seen = null;
        for (int run = 0; run < 2; run++) {
            try (UsageJournal journal = new UsageJournal(dir, 1 << 20, 1 << 16)) {
                journal.open();
                assertEquals(5, journal.pendingRecords());
                UsageJournal.Batch read = journal.oldestToReplay().orElseThrow();
                assertEquals(2, read.commits().size());
                assertEquals(first, read.commits().get(0).records());
                assertEquals(second, read.commits().get(1).records());
                assertTrue(read.commits().stream().allMatch(UsageCommit::legacy));
                if (seen != null) {
                    assertEquals(seen, read.commits(), "the derived ids are the same every time the file is read");
                }
                seen = read.commits();
            }
        }
        assertTrue(!seen.get(0).id().equals(seen.get(1).id()));
    }

    /** A frame of format 1: this format's frame without the commit id, its checksum recomputed. */
    private static byte[] v1Frame(List<UsageRecord> records) {
        java.nio.ByteBuffer v2 = UsageRecordCodec.frame(UsageCommit.of(records));
        int payload = v2.getInt(0) - 16;
        java.nio.ByteBuffer v1 = java.nio.ByteBuffer.allocate(UsageRecordCodec.FRAME_HEADER_BYTES + payload);
        v1.putInt(payload).putInt(0);
        v1.put(v2.array(), UsageRecordCodec.FRAME_HEADER_BYTES + 16, payload);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(v1.array(), UsageRecordCodec.FRAME_HEADER_BYTES, payload);
        v1.putInt(4, (int) crc.getValue());
        return v1.array();
    }
}
