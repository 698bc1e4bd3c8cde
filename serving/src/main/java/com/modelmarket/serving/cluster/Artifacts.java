package com.modelmarket.serving.cluster;

import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Artifacts between nodes that keep stores of their own: a node with an artifact answers chunk
 * requests for it ({@link #serve}); a serving node that lacks one fetches it chunk by chunk into a
 * temporary file and stores it through {@link ModelStore#put}, which hashes it, and refuses it unless
 * the SHA-256 is the one asked for. With a shared store directory ({@code cluster.artifact-dir}) the
 * file is simply there, and is re-hashed ({@link ModelStore#verify}) before it loads. File work runs
 * on worker threads.
 */
public final class Artifacts {

    static final int CHUNK = 1 << 20;
    private static final java.util.regex.Pattern SHA256 = java.util.regex.Pattern.compile("[0-9a-f]{64}");

    private Artifacts() {
    }

    /** Answers {@code {sha256, offset}} with up to a chunk of the stored file (a failure if it is not stored). */
    public static MessageConsumer<JsonObject> serve(Vertx vertx, ModelStore store, String nodeId) {
        return vertx.eventBus().consumer(ServingWire.artifactAddress(nodeId), msg -> {
            String sha = msg.body().getString("sha256", "");
            long offset = msg.body().getLong("offset", 0L);
            if (!SHA256.matcher(sha).matches() || offset < 0) {
                msg.fail(400, "bad artifact request");
                return;
            }
            vertx.executeBlocking(() -> {
                StoredArtifact artifact = store.find(sha).orElseThrow(() -> new IOException("not stored here"));
                try (RandomAccessFile file = new RandomAccessFile(artifact.path().toFile(), "r")) {
                    long left = Math.max(0, file.length() - offset);
                    byte[] chunk = new byte[(int) Math.min(CHUNK, left)];
                    file.seek(offset);
                    file.readFully(chunk);
                    return Buffer.buffer(chunk);
                }
            }, false).onSuccess(msg::reply).onFailure(err -> msg.fail(404, "artifact " + sha + ": " + err.getMessage()));
        });
    }

    /**
     * The artifact from this node's store, verified; else fetched from {@code source} (a node's
     * artifact address) and stored. Fails with {@link ModelRejectedException} ({@code hash}) when the
     * bytes are not the ones named.
     */
    public static Future<StoredArtifact> obtain(Vertx vertx, ModelStore store, String sha256, long size, String source) {
        return vertx.executeBlocking(() -> store.find(sha256).map(ModelStore::verify), false).compose(found -> {
            if (found.isPresent()) {
                return Future.succeededFuture(found.get());
            }
            if (source == null) {
                return Future.failedFuture(new ModelRejectedException(ModelRejectedException.Check.HASH,
                        "artifact " + sha256 + " is not in this node's store and no node was named to fetch it from"));
            }
            return vertx.executeBlocking(() -> Files.createTempFile("mm-artifact-", ".part"), false)
                    .compose(tmp -> fetch(vertx, source, sha256, size, tmp, 0)
                            .compose(v -> vertx.executeBlocking(() -> storeVerified(store, tmp, sha256, size), false))
                            .eventually(() -> vertx.executeBlocking(() -> Files.deleteIfExists(tmp), false)));
        });
    }

    private static Future<Void> fetch(Vertx vertx, String source, String sha256, long size, Path tmp, long offset) {
        if (offset >= size) {
            return Future.succeededFuture();
        }
        return vertx.eventBus().<Buffer>request(source, new JsonObject().put("sha256", sha256).put("offset", offset),
                        new DeliveryOptions().setSendTimeout(30_000))
                .compose(reply -> {
                    Buffer chunk = reply.body();
                    if (chunk.length() == 0) {
                        return Future.failedFuture(new ModelRejectedException(ModelRejectedException.Check.HASH,
                                "artifact " + sha256 + " ended after " + offset + " of " + size + " bytes"));
                    }
                    return vertx.executeBlocking(() -> {
                        Files.write(tmp, chunk.getBytes(), StandardOpenOption.APPEND);
                        return null;
                    }, false).compose(v -> fetch(vertx, source, sha256, size, tmp, offset + chunk.length()));
                });
    }

    private static StoredArtifact storeVerified(ModelStore store, Path tmp, String sha256, long size) throws IOException {
        try (InputStream in = Files.newInputStream(tmp)) {
            StoredArtifact stored = store.put(in, size);
            if (!stored.sha256().equals(sha256)) {
                // stored under its own hash (content-addressed, so harmless), but not loaded as the one asked for
                throw new ModelRejectedException(ModelRejectedException.Check.HASH,
                        "fetched artifact has sha256 " + stored.sha256() + ", expected " + sha256);
            }
            return stored;
        }
    }
}
