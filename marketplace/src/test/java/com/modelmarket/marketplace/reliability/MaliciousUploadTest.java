package com.modelmarket.marketplace.reliability;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.fixtureBytes;
import static com.modelmarket.marketplace.support.Publishing.manifest;
import static com.modelmarket.marketplace.support.Publishing.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.TestPlatform;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile uploads: every one is refused with its reason, nothing lands outside the store, a pickle
 * that would create a marker file when unpickled never runs, and the server keeps serving.
 */
@ExtendWith(VertxExtension.class)
class MaliciousUploadTest {

    @TempDir
    static Path scratch;
    private static Path marker;
    private static Platform platform;
    private static Api api;
    private static String publisher;

    @BeforeAll
    static void start(Vertx vertx) {
        marker = scratch.resolve("pwned-marker");
        platform = TestPlatform.startOnFreshDatabase(vertx, Map.of("catalog.max-upload-bytes", Long.toString(4 << 20)));
        api = new Api(vertx, platform.port());
        publisher = accessToken(api.signUp("Hostile Uploads", "owner@hostile.test", "hostile-password"));
        createModel(api, publisher, "hostile", "private", new JsonObject());
    }

    @AfterAll
    static void stop() {
        api.close();
        TestPlatform.stop(platform);
    }

    /** A pickle (protocol 0) that calls os.system("touch <marker>") when loaded by Python. */
    private static byte[] evilPickle() {
        return ("cos\nsystem\n(S'touch " + marker + "'\ntR.").getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] zip(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (var e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }

    private static JsonObject asArtifact(String version, byte[] bytes) {
        return api.post("/api/v1/models/hostile/versions", publisher, new JsonObject().put("version", version)
                .put("artifactSha256", upload(api, publisher, bytes)).put("manifest", manifest("digits_mlp"))).bodyAsJsonObject();
    }

    private static JsonObject asBundle(String version, byte[] zip) {
        return api.post("/api/v1/models/hostile/versions", publisher, new JsonObject().put("version", version)
                .put("bundleSha256", upload(api, publisher, zip))).bodyAsJsonObject();
    }

    private static void assertRefused(JsonObject problem) {
        assertEquals(422, problem.getInteger("status"), problem.encode());
        assertTrue(problem.getString("reason").length() > 5, problem.encode());
    }

    @Test
    @DisplayName("pickles that would write a file are refused without being unpickled: raw, as a torch.save archive, and inside a TorchScript-shaped archive")
    void maliciousPickles() throws IOException {
        assertRefused(asArtifact("0.0.1", evilPickle()));
        assertRefused(asArtifact("0.0.2", zip(Map.of("archive/data.pkl", evilPickle(), "archive/version", "3\n".getBytes()))));
        Map<String, byte[]> shaped = new LinkedHashMap<>();
        shaped.put("archive/data.pkl", evilPickle());
        shaped.put("archive/constants.pkl", evilPickle());
        shaped.put("archive/code/__torch__.py", "def forward(self, x):\n    return x\n".getBytes());
        shaped.put("archive/version", "3\n".getBytes());
        assertRefused(asArtifact("0.0.3", zip(shaped)));
        assertFalse(Files.exists(marker), "the pickle ran");
    }

    @Test
    @DisplayName("absolute and parent paths, and a 10,000-entry archive, are refused and write nothing outside the store")
    void hostileArchives() throws IOException {
        Map<String, byte[]> absolute = new LinkedHashMap<>();
        absolute.put(scratch.resolve("absolute-marker").toString(), "x".getBytes());
        absolute.put("model.pt", fixtureBytes("digits_mlp.pt"));
        absolute.put("manifest.json", manifest("digits_mlp").encode().getBytes(StandardCharsets.UTF_8));
        assertRefused(asBundle("0.1.0", zip(absolute)));

        Map<String, byte[]> windows = new LinkedHashMap<>(absolute);
        windows.remove(scratch.resolve("absolute-marker").toString());
        windows.put("..\\..\\windows-marker", "x".getBytes());
        assertRefused(asBundle("0.1.1", zip(windows)));

        Map<String, byte[]> many = new LinkedHashMap<>();
        for (int i = 0; i < 10_000; i++) {
            many.put("f" + i, new byte[0]);
        }
        JsonObject problem = asBundle("0.1.2", zip(many));
        assertRefused(problem);
        assertTrue(problem.getString("reason").contains("10000 entries"), problem.encode());

        try (var files = Files.walk(scratch)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith("-marker")));
        }
    }

    @Test
    @DisplayName("after all of it the server still validates and serves a real model")
    void stillServing() {
        var ok = com.modelmarket.marketplace.support.Publishing.addVersion(api, publisher, "hostile", "1.0.0", "digits_mlp");
        assertEquals(201, ok.statusCode(), ok.bodyAsString());
        assertEquals(200, api.get("/health/ready", null).statusCode());
    }
}
