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
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile uploads: every one is refused with its reason, nothing lands outside the store, a pickle
 * that would create a marker file when unpickled never runs, and the server keeps serving.
 */
@StartedPlatform("catalog.max-upload-bytes=" + (4 << 20))
class MaliciousUploadTest {

    @TempDir
    static Path scratch;
    private static Path marker;
    private static Platform platform;
    private static Api api;
    private static String publisher;

    @BeforeAll
    static void start(Platform started, Api client) {
        marker = scratch.resolve("pwned-marker");
        platform = started;
        api = client;
        publisher = accessToken(api.signUp("Hostile Uploads", "owner@hostile.test", "hostile-password"));
        createModel(api, publisher, "hostile", "private", new JsonObject());
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

    /**
     * A zip whose named entries are Unix symbolic links: java.util.zip cannot set external
     * attributes, so the central directory is patched — "made by" Unix, mode 0120777 (S_IFLNK) in
     * the high half of the external attributes; the entry's data is the link target, as zip and
     * Info-ZIP store links.
     */
    private static byte[] zipWithSymlinks(Map<String, byte[]> entries, Set<String> links) throws IOException {
        byte[] bytes = zip(entries);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int eocd = bytes.length - 22; // no archive comment
        assertEquals(0x06054b50, buf.getInt(eocd), "end of central directory");
        int count = Short.toUnsignedInt(buf.getShort(eocd + 10));
        int at = buf.getInt(eocd + 16);
        int patched = 0;
        for (int i = 0; i < count; i++) {
            assertEquals(0x02014b50, buf.getInt(at), "central directory header");
            int nameLength = Short.toUnsignedInt(buf.getShort(at + 28));
            String name = new String(bytes, at + 46, nameLength, StandardCharsets.UTF_8);
            if (links.contains(name)) {
                buf.putShort(at + 4, (short) ((3 << 8) | 20)); // version made by: Unix, 2.0
                buf.putInt(at + 38, 0120777 << 16);
                patched++;
            }
            at += 46 + nameLength + Short.toUnsignedInt(buf.getShort(at + 30)) + Short.toUnsignedInt(buf.getShort(at + 32));
        }
        assertEquals(links.size(), patched, "every link entry patched");
        return bytes;
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
    @DisplayName("a bundle whose model.pt is a symbolic link (to an absolute path, or up out of the store) is refused, and no link or file appears")
    void symlinkedModel() throws IOException {
        Map<String, byte[]> absolute = new LinkedHashMap<>();
        absolute.put("model.pt", scratch.resolve("symlink-absolute-marker").toString().getBytes(StandardCharsets.UTF_8));
        absolute.put("manifest.json", manifest("digits_mlp").encode().getBytes(StandardCharsets.UTF_8));
        JsonObject first = asBundle("0.2.0", zipWithSymlinks(absolute, Set.of("model.pt")));

        Map<String, byte[]> relative = new LinkedHashMap<>(absolute);
        relative.put("model.pt", "../../../../symlink-relative-marker".getBytes(StandardCharsets.UTF_8));
        JsonObject second = asBundle("0.2.1", zipWithSymlinks(relative, Set.of("model.pt")));
        System.out.println("MaliciousUploadTest.symlinkedModel absolute=" + first.encode() + " relative=" + second.encode());
        for (JsonObject problem : List.of(first, second)) {
            assertRefused(problem);
            // the bundle check (links refused) or the model's format check (a link's data is its target, not TorchScript)
            assertTrue(Set.of("bundle", "format").contains(problem.getString("check")), problem.encode());
        }
        assertNothingLinked();
        assertEquals(200, api.get("/health/ready", null).statusCode(), "still serving");
    }

    @Test
    @DisplayName("a bundle with a README.md, or any other entry, stored as a symbolic link is refused, though its model is valid")
    void symlinkBesideTheModel() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("model.pt", fixtureBytes("digits_mlp.pt"));
        entries.put("manifest.json", manifest("digits_mlp").encode().getBytes(StandardCharsets.UTF_8));
        entries.put("README.md", "/etc/passwd".getBytes(StandardCharsets.UTF_8));
        JsonObject readme = asBundle("0.3.0", zipWithSymlinks(entries, Set.of("README.md")));
        entries.put("README.md", "# a model\n".getBytes(StandardCharsets.UTF_8));
        entries.put("docs/extra", "../../../../symlink-relative-marker".getBytes(StandardCharsets.UTF_8));
        JsonObject extra = asBundle("0.3.1", zipWithSymlinks(entries, Set.of("docs/extra")));
        for (JsonObject problem : List.of(readme, extra)) {
            assertRefused(problem);
            assertEquals("bundle", problem.getString("check"), problem.encode());
        }
        assertNothingLinked();
    }

    /** No link target was created, and no symbolic link exists anywhere under the data directory. */
    private static void assertNothingLinked() throws IOException {
        assertFalse(Files.exists(scratch.resolve("symlink-absolute-marker"), LinkOption.NOFOLLOW_LINKS), "a file at the link's target");
        Path dataDir = platform.services().config().dataDir();
        for (Path p = dataDir.resolve("models"); p != null; p = p.getParent()) {
            assertFalse(Files.exists(p.resolve("symlink-relative-marker"), LinkOption.NOFOLLOW_LINKS), "a file at " + p);
        }
        try (var files = Files.walk(dataDir)) {
            assertEquals(List.of(), files.filter(Files::isSymbolicLink).toList(), "symbolic links under the data directory");
        }
        try (var files = Files.walk(dataDir)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().startsWith("symlink-")).toList(),
                    "link targets under the data directory");
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
