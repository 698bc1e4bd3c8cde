package com.modelmarket.marketplace.catalog;

import com.modelmarket.marketplace.http.ApiException;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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

    static ApiException refused(String why) {
        return new ApiException(422, "bundle-refused", "Bundle refused", "The bundle was refused: " + why)
                .with("check", "bundle").with("reason", why);
    }
}
