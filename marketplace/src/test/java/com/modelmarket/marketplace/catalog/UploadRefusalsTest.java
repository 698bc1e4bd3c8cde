package com.modelmarket.marketplace.catalog;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.fixtureBytes;
import static com.modelmarket.marketplace.support.Publishing.manifest;
import static com.modelmarket.marketplace.support.Publishing.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Every refused upload gets a clear problem, and nothing of it becomes visible or lands outside the store. */
@StartedPlatform("catalog.max-upload-bytes=" + UploadRefusalsTest.CAP)
class UploadRefusalsTest {

    static final long CAP = 256 * 1024;
    private static Platform platform;
    private static Api api;
    private static String publisher;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
        publisher = accessToken(api.signUp("Refusals Org", "owner@refusals.test", "refusals-password"));
        createModel(api, publisher, "refused", "public", new JsonObject());
    }

    private static JsonObject versionWith(String version, String sha, JsonObject manifest) {
        return api.post("/api/v1/models/refused/versions", publisher, new JsonObject()
                .put("version", version).put("artifactSha256", sha).put("manifest", manifest)).bodyAsJsonObject();
    }

    private static void assertRefused(JsonObject problem, String check) {
        assertEquals(422, problem.getInteger("status"), problem.encode());
        assertEquals(check, problem.getString("check"), problem.encode());
        assertTrue(problem.getString("reason").length() > 5, problem.encode());
    }

    @Test
    @DisplayName("random bytes, a torch.save state dict and a truncated TorchScript file are refused with the check that failed")
    void notTorchScript() {
        byte[] random = new byte[4096];
        new Random(7).nextBytes(random);
        assertRefused(versionWith("0.0.1", upload(api, publisher, random), manifest("digits_mlp")), "format");
        assertRefused(versionWith("0.0.2", upload(api, publisher, fixtureBytes("digits_state_dict.pt")),
                manifest("digits_mlp")), "format");
        byte[] whole = fixtureBytes("digits_mlp.pt");
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length / 2);
        JsonObject problem = versionWith("0.0.3", upload(api, publisher, truncated), manifest("digits_mlp"));
        assertEquals(422, problem.getInteger("status"), problem.encode());
        assertNoVersions();
    }

    @Test
    @DisplayName("a manifest that does not match the model is refused")
    void manifestMismatch() {
        String sha = upload(api, publisher, fixtureBytes("digits_mlp.pt"));
        JsonObject problem = versionWith("0.1.0", sha, manifest("digits_mlp_bad_schema"));
        assertEquals(422, problem.getInteger("status"), problem.encode());
        JsonObject wrongInput = manifest("digits_mlp");
        wrongInput.getJsonArray("inputs").getJsonObject(0).put("shape", new JsonArray().add(-1).add(65));
        assertEquals(422, versionWith("0.1.1", sha, wrongInput).getInteger("status"));
        assertNoVersions();
    }

    @Test
    @DisplayName("an upload over the cap answers 413, whether or not it declares its length")
    void overTheCap() {
        byte[] big = new byte[(int) CAP + 1];
        assertProblem(Publishing.uploadRaw(api, publisher, big), 413);
        var chunked = Api.await(api.request(io.vertx.core.http.HttpMethod.POST, "/api/v1/uploads", publisher)
                .putHeader("Content-Type", "application/octet-stream")
                .sendStream(new OneShotStream(big)));
        assertEquals(413, chunked.statusCode());
        assertEquals(201, Publishing.uploadRaw(api, publisher, new byte[(int) CAP]).statusCode(), "exactly the cap is fine");
    }

    @Test
    @DisplayName("a bundle with a ../ entry is refused and nothing is written outside the store")
    void zipSlip() throws IOException {
        Path dataDir = platform.services().config().dataDir();
        byte[] zip = zip(Map.of("../../escaped-marker.txt", "owned".getBytes(StandardCharsets.UTF_8),
                "model.pt", fixtureBytes("digits_mlp.pt"),
                "manifest.json", manifest("digits_mlp").encode().getBytes(StandardCharsets.UTF_8)));
        String sha = upload(api, publisher, zip);
        JsonObject problem = api.post("/api/v1/models/refused/versions", publisher,
                new JsonObject().put("version", "0.2.0").put("bundleSha256", sha)).bodyAsJsonObject();
        assertRefused(problem, "bundle");
        assertTrue(problem.getString("reason").contains("outside"), problem.encode());
        assertFalse(exists(dataDir.getParent(), "escaped-marker.txt"), "nothing escaped the store");
        assertNoVersions();
    }

    /**
     * Whether a file of that name lies up to 4 levels below {@code root}. Other processes create
     * and delete files under the same temporary folder meanwhile, so what vanishes is skipped.
     */
    private static boolean exists(Path root, String name) throws IOException {
        boolean[] found = {false};
        Files.walkFileTree(root, java.util.Set.of(), 4, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
                found[0] |= file.getFileName().toString().equals(name);
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
                found[0] |= file.getFileName() != null && file.getFileName().toString().equals(name);
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
        return found[0];
    }

    @Test
    @DisplayName("a zip bomb is stopped while inflating, before its limit")
    void zipBomb() throws IOException {
        byte[] zeros = new byte[8 * 1024 * 1024];
        byte[] zip = zip(Map.of("model.pt", zeros,
                "manifest.json", manifest("digits_mlp").encode().getBytes(StandardCharsets.UTF_8)));
        assertTrue(zip.length < CAP, "the bomb itself is small: " + zip.length);
        String sha = upload(api, publisher, zip);
        JsonObject problem = api.post("/api/v1/models/refused/versions", publisher,
                new JsonObject().put("version", "0.3.0").put("bundleSha256", sha)).bodyAsJsonObject();
        assertRefused(problem, "bundle");
        assertNoVersions();
    }

    @Test
    @DisplayName("a valid bundle is accepted; the same version number twice is a conflict")
    void bundleAndDuplicate() throws IOException {
        byte[] zip = zip(Map.of("model.pt", fixtureBytes("diabetes_regressor.pt"),
                "manifest.json", manifest("diabetes_regressor").encode().getBytes(StandardCharsets.UTF_8)));
        String sha = upload(api, publisher, zip);
        var created = api.post("/api/v1/models/refused/versions", publisher,
                new JsonObject().put("version", "2.0.0").put("bundleSha256", sha));
        assertEquals(201, created.statusCode(), created.bodyAsString());
        var again = Publishing.addVersion(api, publisher, "refused", "2.0.0", "digits_mlp");
        assertEquals("/problems/conflict", Api.assertProblem(again, 409).getString("type"));
    }

    private static void assertNoVersions() {
        long refusedVersions = api.get("/api/v1/models/refused", publisher).bodyAsJsonObject().getJsonArray("versions")
                .stream().map(JsonObject.class::cast).filter(v -> !v.getString("version").equals("2.0.0")).count();
        assertEquals(0, refusedVersions, "a refused upload must not become a version");
    }

    static byte[] zip(Map<String, byte[]> entries) throws IOException {
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
}
