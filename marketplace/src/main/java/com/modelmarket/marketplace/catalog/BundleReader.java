package com.modelmarket.marketplace.catalog;

import com.modelmarket.marketplace.errors.BundleRefusedException;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Enumeration;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a model bundle — a zip with {@code model.pt}, {@code manifest.json} and optionally
 * {@code README.md} at its root — out of the store. Entry names are checked but never used as
 * paths: the model is streamed into the content-addressed store, so no entry can land outside it.
 * Limits: entry count, total inflated size and per-entry compression ratio, enforced while
 * inflating (the sizes a zip declares are not trusted). Blocking: call on a worker thread.
 */
final class BundleReader {

    static final int MAX_ENTRIES = 64;
    static final long MAX_RATIO = 100;
    private static final long SMALL_FILE_LIMIT = 1 << 20;

    private final ModelStore store;
    private final long maxTotalBytes;

    BundleReader(ModelStore store, long maxTotalBytes) {
        this.store = store;
        this.maxTotalBytes = maxTotalBytes;
    }

    record Bundle(StoredArtifact model, JsonObject manifest, Optional<String> readme) {
    }

    Bundle read(StoredArtifact zip) throws IOException {
        long[] total = {0};
        try (ZipFile file = new ZipFile(zip.path().toFile())) {
            if (file.size() > MAX_ENTRIES) {
                throw refused("it has " + file.size() + " entries; at most " + MAX_ENTRIES + " are allowed");
            }
            Optional<String> link = firstSymlink(zip.path());
            if (link.isPresent()) {
                throw refused("entry '" + link.get() + "' is a symbolic link; a bundle holds plain files only");
            }
            ZipEntry model = null;
            ZipEntry manifest = null;
            ZipEntry readme = null;
            for (Enumeration<? extends ZipEntry> e = file.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                checkName(entry.getName());
                switch (entry.getName()) {
                    case "model.pt" -> model = entry;
                    case "manifest.json" -> manifest = entry;
                    case "README.md" -> readme = entry;
                    default -> {
                        // other entries are ignored, but their names were checked
                    }
                }
            }
            if (model == null || manifest == null) {
                throw refused("a bundle needs model.pt and manifest.json at its root");
            }
            JsonObject manifestJson;
            try {
                manifestJson = new JsonObject(new String(readSmall(file, manifest, total), StandardCharsets.UTF_8));
            } catch (io.vertx.core.json.DecodeException ex) {
                throw refused("manifest.json is not a JSON object: " + ex.getMessage());
            }
            Optional<String> readmeText = readme == null ? Optional.empty()
                    : Optional.of(new String(readSmall(file, readme, total), StandardCharsets.UTF_8));
            StoredArtifact stored;
            try (InputStream in = guarded(file, model, total)) {
                stored = store.put(in, maxTotalBytes);
            }
            return new Bundle(stored, manifestJson, readmeText);
        } catch (ZipException e) {
            throw refused("it is not a readable zip archive (" + e.getMessage() + ")");
        }
    }

    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL_HEADER = 0x02014b50;
    private static final int UNIX = 3;
    private static final int TYPE_MASK = 0170000;
    private static final int SYMLINK = 0120000;

    /**
     * The first entry that a Unix zip tool would unpack as a symbolic link, read from the central
     * directory ("version made by" Unix, file type {@code S_IFLNK} in the external attributes):
     * {@code java.util.zip} does not expose either. Nothing here is ever unpacked, but a link in a
     * bundle can only be a mistake or an attack, so it is refused.
     */
    static Optional<String> firstSymlink(Path zip) throws IOException {
        try (FileChannel ch = FileChannel.open(zip, StandardOpenOption.READ)) {
            long size = ch.size();
            int tailLength = (int) Math.min(size, 22 + 65_535);
            ByteBuffer tail = read(ch, size - tailLength, tailLength);
            int eocd = -1;
            for (int i = tailLength - 22; i >= 0; i--) {
                if (tail.getInt(i) == EOCD) {
                    eocd = i;
                    break;
                }
            }
            if (eocd < 0) {
                throw new ZipException("no end of central directory record");
            }
            long entries = tail.getShort(eocd + 10) & 0xffff;
            long cdSize = tail.getInt(eocd + 12) & 0xffffffffL;
            long cdOffset = tail.getInt(eocd + 16) & 0xffffffffL;
            if ((cdOffset == 0xffffffffL || entries == 0xffff) && eocd >= 20 && tail.getInt(eocd - 20) == ZIP64_LOCATOR) {
                long z64 = tail.getLong(eocd - 20 + 8);
                ByteBuffer rec = read(ch, z64, 56);
                if (rec.getInt(0) != ZIP64_EOCD) {
                    throw new ZipException("bad zip64 end of central directory record");
                }
                entries = rec.getLong(32);
                cdSize = rec.getLong(40);
                cdOffset = rec.getLong(48);
            }
            if (cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > size || cdSize > Integer.MAX_VALUE) {
                throw new ZipException("central directory out of bounds");
            }
            ByteBuffer cd = read(ch, cdOffset, (int) cdSize);
            int at = 0;
            for (long n = 0; n < entries && at + 46 <= cd.limit() && cd.getInt(at) == CENTRAL_HEADER; n++) {
                int madeBy = (cd.getShort(at + 4) & 0xffff) >> 8;
                int nameLength = cd.getShort(at + 28) & 0xffff;
                int extraLength = cd.getShort(at + 30) & 0xffff;
                int commentLength = cd.getShort(at + 32) & 0xffff;
                int mode = cd.getInt(at + 38) >>> 16;
                if (madeBy == UNIX && (mode & TYPE_MASK) == SYMLINK) {
                    byte[] name = new byte[Math.min(nameLength, Math.max(0, cd.limit() - at - 46))];
                    cd.get(at + 46, name);
                    return Optional.of(new String(name, StandardCharsets.UTF_8));
                }
                at += 46 + nameLength + extraLength + commentLength;
            }
            return Optional.empty();
        }
    }

    private static ByteBuffer read(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                throw new ZipException("the archive ends early");
            }
        }
        return buf.flip();
    }

    static void checkName(String name) {
        String n = name.replace('\\', '/');
        if (n.startsWith("/") || n.matches("^[A-Za-z]:.*") || n.equals("..") || n.startsWith("../")
                || n.contains("/../") || n.endsWith("/..") || n.indexOf('\0') >= 0) {
            throw refused("entry '" + name + "' points outside the bundle");
        }
    }

    private byte[] readSmall(ZipFile file, ZipEntry entry, long[] total) throws IOException {
        try (InputStream in = guarded(file, entry, total)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                out.write(buf, 0, n);
                if (out.size() > SMALL_FILE_LIMIT) {
                    throw refused(entry.getName() + " is larger than " + SMALL_FILE_LIMIT + " bytes");
                }
            }
            return out.toByteArray();
        }
    }

    /** The entry's bytes, stopped as soon as a ratio or size limit is passed. */
    private InputStream guarded(ZipFile file, ZipEntry entry, long[] total) throws IOException {
        long compressed = Math.max(1, entry.getCompressedSize());
        String name = entry.getName();
        return new FilterInputStream(file.getInputStream(entry)) {
            private long inflated;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) {
                    inflated += n;
                    total[0] += n;
                    if (inflated > compressed * MAX_RATIO && inflated > 64 * 1024) {
                        throw refused(name + " inflates more than " + MAX_RATIO + " times its compressed size (a zip bomb?)");
                    }
                    if (total[0] > maxTotalBytes) {
                        throw refused("the bundle inflates to more than " + maxTotalBytes + " bytes");
                    }
                }
                return n;
            }
        };
    }

    static BundleRefusedException refused(String why) {
        return new BundleRefusedException(why);
    }
}
