package com.modelmarket.billing.metering;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounded on-disk journal every usage record passes through before it counts as durable.
 *
 * <p>Files {@code usage-<20-digit sequence>.journal} in one directory ({@link UsageRecordCodec}'s
 * frames). {@link #append} writes one frame and {@code fsync}s it: one call is one group commit. A
 * file is appended to by this process only, and a new one is started on open, when the current one
 * is full, and when the current one is taken for replay.
 *
 * <p>A file goes away in one of two ways. Normally the meter writes the records from memory and
 * {@link #confirm}s them; a sealed file whose records are all confirmed is deleted. When the meter
 * let go of records before the sink had them (the sink down or slow), it {@link #markForReplay}s
 * their file; {@link #oldestToReplay} then reads such files back, oldest first, and {@link #remove}
 * deletes one once the sink has all of it. Files found on open (an earlier run's) are all replayed;
 * so are files of the first binary format and {@code usage-*.jsonl} files of the earlier JSON-lines
 * format, as legacy commits. A frame that is not whole
 * (the torn tail of a crash; it was never fsynced, so never counted durable) ends the file's reading.
 *
 * <p>Blocking I/O: call it from worker threads only. Methods are synchronized; the counters may be
 * read from any thread.
 */
final class UsageJournal implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(UsageJournal.class);
    private static final Pattern FILE_NAME = Pattern.compile("usage-(\\d{20})\\.(journal|jsonl)");

    /** A journal file read for replay, one commit a frame; {@code tornBytes} at its end were not a whole frame. */
    record Batch(long sequence, Path file, List<UsageCommit> commits, long tornBytes) {

        int recordCount() {
            return UsageCommit.recordCount(commits);
        }

        /** Every record of the file, in order. */
        List<UsageRecord> records() {
            List<UsageRecord> all = new ArrayList<>(recordCount());
            commits.forEach(c -> all.addAll(c.records()));
            return all;
        }
    }

    private static final class FileInfo {
        final Path path;
        long bytes;
        long records;
        long confirmed;
        boolean replay;

        FileInfo(Path path, long bytes, long records, boolean replay) {
            this.path = path;
            this.bytes = bytes;
            this.records = records;
            this.replay = replay;
        }

        long pending() {
            return replay ? records : Math.max(0, records - confirmed);
        }
    }

    private final Path directory;
    private final long maxBytes;
    private final long maxFileBytes;
    private final TreeMap<Long, FileInfo> files = new TreeMap<>();
    private FileChannel active;
    private long activeSequence = -1;
    private long nextSequence;
    private boolean closed;
    private volatile long pendingRecords;
    private volatile long pendingBytes;
    private volatile int replayFiles;

    UsageJournal(Path directory, long maxBytes, long maxFileBytes) {
        this.directory = directory;
        this.maxBytes = maxBytes;
        this.maxFileBytes = maxFileBytes;
    }

    /** Creates the directory if needed and takes stock of files left by an earlier run, all to be replayed. */
    synchronized void open() throws IOException {
        Files.createDirectories(directory);
        try (var listing = Files.list(directory)) {
            for (Path path : (Iterable<Path>) listing::iterator) {
                Matcher name = FILE_NAME.matcher(path.getFileName().toString());
                if (!name.matches()) {
                    continue;
                }
                long size = Files.size(path);
                if (size == 0 || (size <= UsageRecordCodec.FILE_HEADER.length && isBinary(path))) { // both headers are 8 bytes
                    Files.delete(path);
                } else {
                    files.put(Long.parseLong(name.group(1)), new FileInfo(path, size, countRecords(path), true));
                }
            }
        }
        nextSequence = files.isEmpty() ? 1 : files.lastKey() + 1;
        updateCounters();
    }

    /**
     * Appends the commit as one frame and fsyncs it, or throws and leaves the journal as it was.
     *
     * @return the sequence of the file it went to, for {@link #confirm} and {@link #markForReplay}
     */
    synchronized long append(UsageCommit commit) throws IOException {
        if (closed) {
            throw new IOException("usage journal " + directory + " is closed");
        }
        List<UsageRecord> records = commit.records();
        ByteBuffer frame = UsageRecordCodec.frame(commit);
        int length = frame.remaining();
        if (pendingBytes + length > maxBytes) {
            throw new JournalFullException("usage journal " + directory + " holds " + pendingBytes
                    + " bytes; " + length + " more would pass its bound of " + maxBytes);
        }
        if (active == null || files.get(activeSequence).bytes + length > maxFileBytes) {
            startFile();
        }
        FileInfo info = files.get(activeSequence);
        long before = info.bytes;
        try {
            while (frame.hasRemaining()) {
                active.write(frame);
            }
            active.force(false);
        } catch (IOException e) {
            truncateQuietly(before);
            throw e;
        }
        info.bytes += length;
        info.records += records.size();
        updateCounters();
        return activeSequence;
    }

    /** The sink has {@code count} more records of file {@code sequence}; a sealed file it has whole is deleted. */
    synchronized void confirm(long sequence, long count) throws IOException {
        FileInfo info = files.get(sequence);
        if (info != null) {
            info.confirmed += count;
            deleteIfDone(sequence, info);
            updateCounters();
        }
    }

    /** Some records of file {@code sequence} are no longer in memory: the file must be replayed. */
    synchronized void markForReplay(long sequence) {
        FileInfo info = files.get(sequence);
        if (info != null && !info.replay) {
            info.replay = true;
            updateCounters();
        }
    }

    /** The oldest file to replay, read whole; if it is the file being appended to, later appends go to a new file. */
    synchronized Optional<Batch> oldestToReplay() throws IOException {
        Map.Entry<Long, FileInfo> oldest = files.entrySet().stream().filter(e -> e.getValue().replay).findFirst().orElse(null);
        if (oldest == null) {
            return Optional.empty();
        }
        if (oldest.getKey() == activeSequence) {
            closeActive();
        }
        Path path = oldest.getValue().path;
        return Optional.of(path.toString().endsWith(".jsonl") ? readJsonLines(oldest.getKey(), path) : readFrames(oldest.getKey(), path));
    }

    /** Deletes a replayed file; call only after the sink confirmed every record in it. */
    synchronized void remove(Batch batch) throws IOException {
        if (batch.sequence() == activeSequence) {
            closeActive();
        }
        FileInfo info = files.remove(batch.sequence());
        if (info != null) {
            Files.deleteIfExists(info.path);
        }
        updateCounters();
    }

    /** Records in the journal the sink has not confirmed (an upper bound: a replayed file may hold duplicates). */
    long pendingRecords() {
        return pendingRecords;
    }

    /** Bytes of all journal files, the figure bounded by {@code maxBytes}. */
    long pendingBytes() {
        return pendingBytes;
    }

    /** Files waiting to be replayed. */
    int replayFiles() {
        return replayFiles;
    }

    /** Seals the active file and deletes every file whose records the sink has; the rest wait for the next open. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        closeActive();
        for (Long sequence : new ArrayList<>(files.keySet())) {
            deleteIfDone(sequence, files.get(sequence));
        }
        updateCounters();
    }

    private void deleteIfDone(long sequence, FileInfo info) throws IOException {
        if (sequence != activeSequence && !info.replay && info.confirmed >= info.records) {
            files.remove(sequence);
            Files.deleteIfExists(info.path);
        }
    }

    private void startFile() throws IOException {
        closeActive();
        long sequence = nextSequence++;
        Path path = directory.resolve(String.format("usage-%020d.journal", sequence));
        active = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        active.write(ByteBuffer.wrap(UsageRecordCodec.FILE_HEADER));
        activeSequence = sequence;
        files.put(sequence, new FileInfo(path, UsageRecordCodec.FILE_HEADER.length, 0, false));
        syncDirectory();
    }

    /** Seals the active file; one whose records the sink already has is deleted. */
    private void closeActive() throws IOException {
        if (active != null) {
            FileChannel channel = active;
            long sequence = activeSequence;
            active = null;
            activeSequence = -1;
            channel.close();
            FileInfo info = files.get(sequence);
            if (info != null) {
                deleteIfDone(sequence, info);
            }
        }
    }

    private void updateCounters() {
        long records = 0;
        long bytes = 0;
        int replay = 0;
        for (FileInfo info : files.values()) {
            records += info.pending();
            bytes += info.bytes;
            replay += info.replay ? 1 : 0;
        }
        pendingRecords = records;
        pendingBytes = bytes;
        replayFiles = replay;
    }

    private Batch readFrames(long sequence, Path path) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(path));
        List<UsageCommit> commits = new ArrayList<>();
        int format = format(in);
        if (format == 0) {
            LOG.warn("usage journal file {} has no header; nothing in it can be read", path);
            return new Batch(sequence, path, commits, in.limit());
        }
        in.position(UsageRecordCodec.FILE_HEADER.length);
        UsageCommit frame;
        while ((frame = UsageRecordCodec.readFrame(in, format == 2)) != null) {
            commits.add(frame);
        }
        long torn = in.remaining();
        if (torn > 0) {
            LOG.warn("usage journal file {} ends in {} bytes that are not a whole frame (a write cut short by a crash)", path, torn);
        }
        return new Batch(sequence, path, commits, torn);
    }

    /**
     * A file of the first format, one JSON object a line; an unreadable line is skipped. Its records
     * are one legacy commit (deduplicated by request id), whose id is derived from the file's bytes.
     */
    private static Batch readJsonLines(long sequence, Path path) throws IOException {
        List<UsageRecord> records = new ArrayList<>();
        long skipped = 0;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(Files.newInputStream(path), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.isBlank()) {
                    try {
                        records.add(UsageRecordJson.decode(line));
                    } catch (RuntimeException e) {
                        skipped += line.length() + 1;
                    }
                }
            }
        }
        List<UsageCommit> commits = records.isEmpty() ? List.of()
                : List.of(new UsageCommit(UUID.nameUUIDFromBytes(Files.readAllBytes(path)), records, true));
        return new Batch(sequence, path, commits, skipped);
    }

    /** 2 for the current binary format, 1 for the first binary one (frames without commit ids), 0 for no header. */
    private static int format(ByteBuffer in) {
        byte[] head = new byte[UsageRecordCodec.FILE_HEADER.length];
        if (in.limit() < head.length) {
            return 0;
        }
        in.get(0, head);
        if (Arrays.equals(head, UsageRecordCodec.FILE_HEADER)) {
            return 2;
        }
        return Arrays.equals(head, UsageRecordCodec.FILE_HEADER_V1) ? 1 : 0;
    }

    private static boolean isBinary(Path path) {
        return path.getFileName().toString().endsWith(".journal");
    }

    /** Records in a file, for the stats: frame counts, or lines of a JSON-lines file. */
    private static long countRecords(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        if (!isBinary(path)) {
            long lines = 0;
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] == '\n' || i == bytes.length - 1) {
                    lines++;
                }
            }
            return lines;
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        int format = format(in);
        if (format == 0) {
            return 0;
        }
        long records = 0;
        int position = UsageRecordCodec.FILE_HEADER.length;
        int count;
        while ((count = UsageRecordCodec.countAt(in, position, format == 2)) >= 0) {
            records += count;
            position += UsageRecordCodec.FRAME_HEADER_BYTES + in.getInt(position);
        }
        return records;
    }

    /** Makes a new file's directory entry durable too (Linux allows fsync on a directory). */
    private void syncDirectory() {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("cannot fsync directory {}: {}", directory, e.toString());
        }
    }

    private void truncateQuietly(long size) {
        try {
            active.truncate(size);
        } catch (IOException e) {
            LOG.warn("could not truncate a failed append in {}: {}", directory, e.toString());
        }
    }
}
