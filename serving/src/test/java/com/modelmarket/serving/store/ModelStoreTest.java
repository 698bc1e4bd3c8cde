package com.modelmarket.serving.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import io.vertx.core.Vertx;
import io.vertx.core.file.OpenOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class ModelStoreTest {

    @TempDir Path dataDir;
    private ModelStore store;
    private byte[] bytes;
    private String sha256;

    @BeforeEach
    void setUp() throws Exception {
        store = new ModelStore(dataDir);
        bytes = new byte[300_000];
        new Random(1).nextBytes(bytes);
        sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private long files(String dir) throws IOException {
        try (Stream<Path> s = Files.walk(dataDir.resolve(dir))) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    @Test
    @DisplayName("a stream is stored under its SHA-256, once, however often it is uploaded")
    void storesByHash() throws IOException {
        StoredArtifact a = store.put(new ByteArrayInputStream(bytes), 1 << 20);
        StoredArtifact b = store.put(new ByteArrayInputStream(bytes), 1 << 20);
        assertEquals(sha256, a.sha256());
        assertEquals(bytes.length, a.sizeBytes());
        assertEquals(a, b);
        assertArrayEquals(bytes, Files.readAllBytes(a.path()));
        assertEquals(1, files("artifacts"));
        assertEquals(0, files("tmp"), "no temporary file is left behind");
        assertEquals(a, store.find(sha256).orElseThrow());
        assertEquals(a, ModelStore.verify(a));
    }

    @Test
    @DisplayName("an upload over the size cap is refused while streaming and leaves nothing")
    void enforcesSizeCap() throws IOException {
        ModelRejectedException e = assertThrows(ModelRejectedException.class,
                () -> store.put(new ByteArrayInputStream(bytes), 100_000));
        assertEquals(Check.SIZE, e.check());
        assertEquals(0, files("artifacts"));
        assertEquals(0, files("tmp"));
    }

    @Test
    @DisplayName("a stored file changed on disk fails verification on the hash check")
    void verifyDetectsTampering() throws IOException {
        StoredArtifact a = store.put(new ByteArrayInputStream(bytes), 1 << 20);
        bytes[1000] ^= 1;
        Files.write(a.path(), bytes);
        ModelRejectedException e = assertThrows(ModelRejectedException.class,
                () -> ModelStore.verify(a));
        assertEquals(Check.HASH, e.check());
    }

    @Test
    @DisplayName("only well-formed hashes are looked up")
    void findRejectsOddNames() {
        assertTrue(store.find("../../etc/passwd").isEmpty());
        assertTrue(store.find(sha256.toUpperCase()).isEmpty());
        assertTrue(store.find(sha256).isEmpty());
    }

    @Test
    @DisplayName("a Vert.x stream is stored with back-pressure, hashed on the way")
    void storesReadStream(Vertx vertx, VertxTestContext ctx) throws IOException {
        Path source = Files.write(dataDir.resolve("upload.bin"), bytes);
        vertx.fileSystem().open(source.toString(), new OpenOptions().setRead(true))
                .compose(file -> store.put(vertx, file.setReadBufferSize(8192), 1 << 20))
                .onComplete(ctx.succeeding(a -> ctx.verify(() -> {
                    assertEquals(sha256, a.sha256());
                    assertArrayEquals(bytes, Files.readAllBytes(a.path()));
                    assertEquals(0, files("tmp"));
                    ctx.completeNow();
                })));
    }

    @Test
    @DisplayName("a Vert.x stream over the cap fails with the size check and leaves nothing")
    void capsReadStream(Vertx vertx, VertxTestContext ctx) throws IOException {
        Path source = Files.write(dataDir.resolve("upload.bin"), bytes);
        vertx.fileSystem().open(source.toString(), new OpenOptions().setRead(true))
                .compose(file -> store.put(vertx, file.setReadBufferSize(8192), 50_000))
                .onComplete(ctx.failing(err -> vertx.setTimer(100, id -> ctx.verify(() -> {
                    assertEquals(Check.SIZE, assertInstanceOf(ModelRejectedException.class, err).check());
                    assertEquals(0, files("artifacts"));
                    assertEquals(0, files("tmp"));
                    ctx.completeNow();
                }))));
    }
}
