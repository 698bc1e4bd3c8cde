package com.modelmarket.billing.metering;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounded on-disk journal of usage batches the sink could not take.
 *
 * <p>Files {@code usage-<20-digit sequence>.jsonl} in one directory, one JSON line per record
 * ({@link UsageRecordJson}). A batch is appended whole and {@code fsync}ed before
 * {@link #append} returns; a failed append is truncated away. Files are only ever appended to by
 * this process and a new file is started on open, when the current one is full and when the
 * current one is taken for replay; replay goes oldest file first and deletes a file only when
 * {@link #remove} is called after the sink confirmed all of it. A line that does not parse (the
 * torn tail of a crash) is skipped and logged.
 *
 * <p>Blocking I/O: call it from worker threads only. Methods are synchronized; the counters may be
 * read from any thread.
 */
final class UsageJournal implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(UsageJournal.class);
    private static final Pattern FILE_NAME = Pattern.compile("usage-(\\d{20})\\.jsonl");

    /** A journal file read for replay; {@code skipped} lines could not be read. */
    record Batch(long sequence, Path file, List<UsageRecord> records, int skipped) {
    }

    private record FileInfo(Path path, long bytes, long records) {
    }

    private final Path directory;
    private final long maxBytes;
    private final long maxFileBytes;
    private final TreeMap<Long, FileInfo> files = new TreeMap<>();
    private final AtomicLong pendingRecords = new AtomicLong();
    private final AtomicLong pendingBytes = new AtomicLong();
    private FileChannel active;
    private boolean closed;
    private volatile int fileCount;
    private long activeSequence = -1;
    private long nextSequence;

    UsageJournal(Path directory, long maxBytes, long maxFileBytes) {
        this.directory = directory;
        this.maxBytes = maxBytes;
        this.maxFileBytes = maxFileBytes;
    }

    /** Creates the directory if needed and takes stock of files left by an earlier run. */
    synchronized void open() throws IOException {
        Files.createDirectories(directory);
        try (var listing = Files.list(directory)) {
            for (Path path : (Iterable<Path>) listing::iterator) {
                Matcher name = FILE_NAME.matcher(path.getFileName().toString());
                if (!name.matches()) {
                    continue;
                }
                if (Files.size(path) == 0) {
                    Files.delete(path);
                } else {
                    files.put(Long.parseLong(name.group(1)), new FileInfo(path, Files.size(path), countLines(path)));
                }
            }
        }
        nextSequence = files.isEmpty() ? 1 : files.lastKey() + 1;
        fileCount = files.size();
        for (FileInfo info : files.values()) {
            pendingRecords.addAndGet(info.records());
            pendingBytes.addAndGet(info.bytes());
        }
    }

    /** Appends the batch durably, or throws and leaves the journal as it was. */
    synchronized void append(List<UsageRecord> batch) throws IOException {
        if (closed) {
            throw new IOException("usage journal " + directory + " is closed");
        }
        if (batch.isEmpty()) {
            return;
        }
        StringBuilder text = new StringBuilder(batch.size() * 320);
        for (UsageRecord record : batch) {
            text.append(UsageRecordJson.encode(record)).append('\n');
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        if (pendingBytes.get() + bytes.length > maxBytes) {
            throw new JournalFullException("usage journal " + directory + " holds " + pendingBytes.get()
                    + " bytes; " + bytes.length + " more would pass its bound of " + maxBytes);
        }
        if (active == null || (files.get(activeSequence).bytes() > 0 && files.get(activeSequence).bytes() + bytes.length > maxFileBytes)) {
            startFile();
        }
        long before = active.size();
        try {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                active.write(buffer);
            }
            active.force(false);
        } catch (IOException e) {
            truncateQuietly(before);
            throw e;
        }
        FileInfo info = files.get(activeSequence);
        files.put(activeSequence, new FileInfo(info.path(), info.bytes() + bytes.length, info.records() + batch.size()));
        pendingRecords.addAndGet(batch.size());
        pendingBytes.addAndGet(bytes.length);
    }

    /** The oldest file's records; if it is the file being appended to, later appends go to a new file. */
    synchronized Optional<Batch> oldest() throws IOException {
        if (files.isEmpty()) {
            return Optional.empty();
        }
        Map.Entry<Long, FileInfo> oldest = files.firstEntry();
        if (oldest.getKey() == activeSequence) {
            closeActive();
        }
        Path path = oldest.getValue().path();
        List<UsageRecord> records = new ArrayList<>();
        int skipped = 0;
        // InputStreamReader replaces malformed bytes instead of failing, so a torn tail costs one line, not the file
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(Files.newInputStream(path), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    records.add(UsageRecordJson.decode(line));
                } catch (RuntimeException e) {
                    skipped++;
                }
            }
        }
        if (skipped > 0) {
            LOG.warn("skipped {} unreadable lines in usage journal file {} (a torn write?)", skipped, path);
        }
        return Optional.of(new Batch(oldest.getKey(), path, records, skipped));
    }

    /** Deletes a replayed file; call only after the sink confirmed every record in it. */
    synchronized void remove(Batch batch) throws IOException {
        if (batch.sequence() == activeSequence) {
            closeActive();
        }
        FileInfo info = files.remove(batch.sequence());
        fileCount = files.size();
        if (info == null) {
            return;
        }
        Files.deleteIfExists(info.path());
        pendingRecords.addAndGet(-info.records());
        pendingBytes.addAndGet(-info.bytes());
    }

    long pendingRecords() {
        return pendingRecords.get();
    }

    /** Files holding records; read from any thread without waiting for an append in progress. */
    int fileCount() {
        return fileCount;
    }

    long pendingBytes() {
        return pendingBytes.get();
    }

    Path directory() {
        return directory;
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        closeActive();
    }

    private void startFile() throws IOException {
        closeActive();
        long sequence = nextSequence++;
        Path path = directory.resolve(String.format("usage-%020d.jsonl", sequence));
        active = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        activeSequence = sequence;
        files.put(sequence, new FileInfo(path, 0, 0));
        fileCount = files.size();
        syncDirectory();
    }

    private void closeActive() throws IOException {
        if (active != null) {
            FileChannel channel = active;
            active = null;
            activeSequence = -1;
            channel.close();
        }
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

    /** Newline-terminated lines plus a final unterminated one; an estimate for the stats, replay reads exactly. */
    private static long countLines(Path path) throws IOException {
        long lines = 0;
        int last = '\n';
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path))) {
            int b;
            while ((b = in.read()) != -1) {
                if (b == '\n' && last != '\n') {
                    lines++;
                }
                last = b;
            }
        }
        return last == '\n' ? lines : lines + 1;
    }
}
