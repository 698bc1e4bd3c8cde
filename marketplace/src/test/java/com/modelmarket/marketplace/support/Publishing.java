package com.modelmarket.marketplace.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Publishing steps over the HTTP API, with the fixtures of serving/fixtures. */
public final class Publishing {

    public static final Path FIXTURES = Path.of("..", "serving", "fixtures");

    private Publishing() {
    }

    public static byte[] fixtureBytes(String name) {
        try {
            return Files.readAllBytes(FIXTURES.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fixture's manifest, without the test-only fields. */
    public static JsonObject manifest(String fixture) {
        JsonObject json = new JsonObject(Buffer.buffer(fixtureBytes(fixture + ".json")));
        json.remove("expected_outputs");
        json.remove("evaluation");
        return json;
    }

    public static HttpResponse<Buffer> uploadRaw(Api api, String token, byte[] bytes) {
        return Api.await(api.request(HttpMethod.POST, "/api/v1/uploads", token)
                .putHeader("Content-Type", "application/octet-stream")
                .sendBuffer(Buffer.buffer(bytes)));
    }

    public static String upload(Api api, String token, byte[] bytes) {
        HttpResponse<Buffer> r = uploadRaw(api, token, bytes);
        assertEquals(201, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject().getString("sha256");
    }

    public static JsonObject createModel(Api api, String token, String slug, String visibility, JsonObject extra) {
        JsonObject body = new JsonObject().put("slug", slug).put("name", "Model " + slug)
                .put("summary", "summary of " + slug).put("task", "image-classification")
                .put("tags", new JsonArray().add("test")).put("visibility", visibility).mergeIn(extra);
        HttpResponse<Buffer> r = api.post("/api/v1/models", token, body);
        assertEquals(201, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    public static HttpResponse<Buffer> addVersion(Api api, String token, String slug, String version, String fixture) {
        String sha = upload(api, token, fixtureBytes(fixture + ".pt"));
        return api.post("/api/v1/models/" + slug + "/versions", token, new JsonObject()
                .put("version", version).put("artifactSha256", sha).put("manifest", manifest(fixture)));
    }

    public static JsonObject publishVersion(Api api, String token, String slug, String version, String fixture) {
        HttpResponse<Buffer> created = addVersion(api, token, slug, version, fixture);
        assertEquals(201, created.statusCode(), created.bodyAsString());
        HttpResponse<Buffer> published = api.post("/api/v1/models/" + slug + "/versions/" + version + "/publish", token, null);
        assertEquals(200, published.statusCode(), published.bodyAsString());
        return published.bodyAsJsonObject();
    }

    public static JsonObject plan(Api api, String token, String slug, JsonObject plan) {
        HttpResponse<Buffer> r = api.post("/api/v1/models/" + slug + "/plans", token, plan);
        assertEquals(201, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    public static JsonObject freePlan(Api api, String token, String slug) {
        return plan(api, token, slug, new JsonObject().put("name", "Free").put("type", "free").put("currency", "EUR")
                .put("includedCalls", 1000).put("rateLimitPerMinute", 60));
    }
}
