package com.modelmarket.serving.store;

import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.streams.ReadStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Content-addressed storage for model artifacts under a data directory: {@code
 * <dataDir>/artifacts/<first two hex digits>/<sha256>}. Uploads are streamed to a temporary file in
 * {@code <dataDir>/tmp}, hashed on the way, and renamed into place atomically once complete, so a
 * reader never sees a partial artifact. Storing the same bytes twice keeps one file.
 */
public final class ModelStore {

    private static final Logger LOG = LoggerFactory.getLogger(ModelStore.class);
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int CHUNK = 64 * 1024;

    private final Path artifacts;
    private final Path tmp;

    public ModelStore(Path dataDir) {
        this.artifacts = dataDir.resolve("artifacts");
        this.tmp = dataDir.resolve("tmp");
        try {
            Files.createDirectories(artifacts);
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create model store in " + dataDir, e);
        }
    }

    /**
     * Stores a stream, reading it once, in chunks. Blocking: call it from a worker thread.
     *
     * @throws ModelRejectedException with {@link Check#SIZE} as soon as more than {@code maxBytes}
     *     arrive (nothing is kept)
     */
    public StoredArtifact put(InputStream in, long maxBytes) throws IOException {
        Path part = newTempFile();
        try {
            MessageDigest digest = sha256();
            long size = 0;
            try (FileChannel out = FileChannel.open(part, StandardOpenOption.WRITE)) {
                byte[] chunk = new byte[CHUNK];
                for (int n = in.read(chunk); n >= 0; n = in.read(chunk)) {
                    size += n;
                    if (size > maxBytes) {
                        throw tooLarge(maxBytes);
                    }
                    digest.update(chunk, 0, n);
                    ByteBuffer buf = ByteBuffer.wrap(chunk, 0, n);
                    while (buf.hasRemaining()) {
                        out.write(buf);
                    }
                }
                out.force(true);
            }
            return commit(part, HexFormat.of().formatHex(digest.digest()), size);
        } finally {
            Files.deleteIfExists(part);
        }
    }

    /**
     * Stores a Vert.x stream (an HTTP upload, a file) without holding it in memory, with
     * back-pressure. On a size refusal the stream is left paused; the caller decides whether to
     * drain or reset it.
     */
    public Future<StoredArtifact> put(Vertx vertx, ReadStream<Buffer> in, long maxBytes) {
        in.pause();
        Path part = tmp.resolve("upload-" + UUID.randomUUID() + ".part");
        return vertx
                .fileSystem()
                .open(part.toString(), new OpenOptions().setCreateNew(true).setWrite(true))
                .compose(file -> new Upload(in, file, maxBytes).run())
                .compose(
                        upload ->
                                vertx.executeBlocking(() -> commit(part, upload.hash(), upload.size()), false))
                .onFailure(err -> vertx.fileSystem().delete(part.toString()).otherwise((Void) null));
    }

    /** The artifact with this hash, if stored. */
    public Optional<StoredArtifact> find(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            return Optional.empty();
        }
        Path path = pathOf(sha256);
        try {
            return Files.isRegularFile(path)
                    ? Optional.of(new StoredArtifact(sha256, Files.size(path), path))
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Re-reads the file and checks it still has its size and hash. Blocking.
     *
     * @throws ModelRejectedException with {@link Check#HASH} when missing, unreadable or altered
     */
    public static StoredArtifact verify(StoredArtifact artifact) {
        Path path = artifact.path();
        try (InputStream in = Files.newInputStream(path)) {
            MessageDigest digest = sha256();
            byte[] chunk = new byte[CHUNK];
            long size = 0;
            for (int n = in.read(chunk); n >= 0; n = in.read(chunk)) {
                digest.update(chunk, 0, n);
                size += n;
            }
            String actual = HexFormat.of().formatHex(digest.digest());
            if (!actual.equals(artifact.sha256()) || size != artifact.sizeBytes()) {
                throw new ModelRejectedException(
                        Check.HASH,
                        "file " + path.getFileName() + " has sha256 " + actual + " and " + size
                                + " bytes, expected " + artifact.sha256() + " and " + artifact.sizeBytes());
            }
            return artifact;
        } catch (IOException e) {
            throw new ModelRejectedException(Check.HASH, "cannot read " + path + ": " + e, e);
        }
    }

    /** Deletes a stored artifact; true if it existed. */
    public boolean delete(String sha256) throws IOException {
        return find(sha256).isPresent() && Files.deleteIfExists(pathOf(sha256));
    }

    private Path pathOf(String sha256) {
        return artifacts.resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    private Path newTempFile() throws IOException {
        return Files.createTempFile(tmp, "upload-", ".part");
    }

    private StoredArtifact commit(Path part, String sha256, long size) throws IOException {
        Path target = pathOf(sha256);
        Files.createDirectories(target.getParent());
        // rename(2) within one file system: readers see the whole file or none of it
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
        LOG.debug("stored artifact {} ({} bytes)", sha256, size);
        return new StoredArtifact(sha256, size, target);
    }

    private static ModelRejectedException tooLarge(long maxBytes) {
        return new ModelRejectedException(Check.SIZE, "upload is larger than " + maxBytes + " bytes");
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One streaming upload: hashes and counts each buffer, writes it, pauses on a full file queue. */
    private static final class Upload {
        private final ReadStream<Buffer> in;
        private final AsyncFile file;
        private final long maxBytes;
        private final MessageDigest digest = sha256();
        private final Promise<Upload> done = Promise.promise();
        private long size;
        private String sha256;

        Upload(ReadStream<Buffer> in, AsyncFile file, long maxBytes) {
            this.in = in;
            this.file = file;
            this.maxBytes = maxBytes;
        }

        Future<Upload> run() {
            in.exceptionHandler(this::abort);
            in.endHandler(v -> finish());
            in.handler(this::receive);
            file.exceptionHandler(this::abort);
            in.resume();
            return done.future();
        }

        private void receive(Buffer buf) {
            if (done.future().isComplete()) {
                return;
            }
            size += buf.length();
            if (size > maxBytes) {
                in.pause();
                abort(tooLarge(maxBytes));
                return;
            }
            digest.update(buf.getBytes());
            file.write(buf).onFailure(this::abort);
            if (file.writeQueueFull()) {
                in.pause();
                file.drainHandler(v -> in.resume());
            }
        }

        private void finish() {
            if (done.future().isComplete()) {
                return;
            }
            sha256 = HexFormat.of().formatHex(digest.digest());
            file.flush().compose(v -> file.close()).onSuccess(v -> done.tryComplete(this))
                    .onFailure(this::abort);
        }

        private void abort(Throwable err) {
            in.handler(null);
            in.endHandler(null);
            file.close();
            done.tryFail(err);
        }

        String hash() {
            return sha256;
        }

        long size() {
            return size;
        }
    }
}
