package com.modelmarket.marketplace.catalog;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.fixtureBytes;
import static com.modelmarket.marketplace.support.Publishing.manifest;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static com.modelmarket.marketplace.support.Publishing.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * An upload belongs to the tenant that uploaded it: the hash on a public model card is not enough
 * to publish a copy. Each route that takes a hash (a version's artifactSha256, a bundle's
 * bundleSha256) answers another tenant's hash exactly as an unknown one (404); the store still
 * keeps identical bytes once.
 */
@StartedPlatform
class UploadOwnershipTest {

    private static Platform platform;
    private static Api api;
    private static String victim;
    private static String copier;
    private static String victimSha;
    private static String victimBundleSha;

    @BeforeAll
    static void start(Platform started, Api client) throws IOException {
        platform = started;
        api = client;
        victim = accessToken(api.signUp("Victim Labs", "owner@victim.test", "victim-password"));
        copier = accessToken(api.signUp("Copier Inc", "owner@copier.test", "copier-password"));
        createModel(api, victim, "paid-digits", "public", new JsonObject());
        publishVersion(api, victim, "paid-digits", "1.0.0", "digits_mlp");
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("model.pt", fixtureBytes("diabetes_regressor.pt"));
        entries.put("manifest.json", manifest("diabetes_regressor").encode().getBytes(StandardCharsets.UTF_8));
        victimBundleSha = upload(api, victim, UploadRefusalsTest.zip(entries));
        createModel(api, copier, "copied-digits", "public", new JsonObject());
        // what anyone reads on the victim's public model card
        victimSha = api.get("/api/v1/models/paid-digits", copier).bodyAsJsonObject().getJsonArray("versions")
                .getJsonObject(0).getJsonObject("artifact").getString("sha256");
    }

    private static HttpResponse<Buffer> version(String token, String slug, String version, JsonObject source) {
        return api.post("/api/v1/models/" + slug + "/versions", token, new JsonObject().put("version", version).mergeIn(source));
    }

    @Test
    @DisplayName("artifactSha256 of another tenant's upload (read off its public model card) answers 404, as an unknown hash does")
    void artifactOfAnotherTenant() {
        JsonObject foreign = assertProblem(version(copier, "copied-digits", "1.0.0", new JsonObject()
                .put("artifactSha256", victimSha).put("manifest", manifest("digits_mlp"))), 404);
        JsonObject unknown = assertProblem(version(copier, "copied-digits", "1.0.0", new JsonObject()
                .put("artifactSha256", "0".repeat(64)).put("manifest", manifest("digits_mlp"))), 404);
        assertEquals(unknown.getString("detail"), foreign.getString("detail"), "the same answer: no oracle");
        assertEquals("/artifactSha256", foreign.getString("pointer"));
        assertEquals(0, api.get("/api/v1/models/copied-digits", copier).bodyAsJsonObject().getJsonArray("versions").size());
    }

    @Test
    @DisplayName("bundleSha256 of another tenant's bundle answers 404; its owner can use it")
    void bundleOfAnotherTenant() {
        JsonObject problem = assertProblem(version(copier, "copied-digits", "2.0.0",
                new JsonObject().put("bundleSha256", victimBundleSha)), 404);
        assertEquals("/bundleSha256", problem.getString("pointer"));
        HttpResponse<Buffer> own = version(victim, "paid-digits", "2.0.0", new JsonObject().put("bundleSha256", victimBundleSha));
        assertEquals(201, own.statusCode(), own.bodyAsString());
    }

    @Test
    @DisplayName("uploading the same bytes yourself makes them yours: same hash (stored once), and the version is accepted")
    void sameBytesUploadedByTheirOwnTenant() {
        String sha = upload(api, copier, fixtureBytes("digits_mlp.pt"));
        assertEquals(victimSha, sha, "content-addressed: the same bytes have the same address");
        HttpResponse<Buffer> created = version(copier, "copied-digits", "3.0.0", new JsonObject()
                .put("artifactSha256", sha).put("manifest", manifest("digits_mlp")));
        assertEquals(201, created.statusCode(), created.bodyAsString());
    }
}
