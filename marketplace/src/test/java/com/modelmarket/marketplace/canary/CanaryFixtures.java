package com.modelmarket.marketplace.canary;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The gate and canary tests' models and data: breast-cancer classifiers of one schema at three
 * accuracies (serving's under-trained breast_cancer_mlp 0.634, this module's breast_cancer_fair 0.810
 * and breast_cancer_better 0.9965 on all rows; see fixtures/gates/make_gate_fixtures.py) and the
 * breast-cancer CSV they are measured on.
 */
public final class CanaryFixtures {

    public static final Path GATES = Path.of("src", "test", "resources", "fixtures", "gates");
    public static final Path BREAST_CANCER_CSV = Path.of("..", "serving", "fixtures", "datasets", "breast_cancer.csv");

    private CanaryFixtures() {
    }

    /** Adds a draft version from a fixture: {@code gates/NAME} from this module, else serving's NAME. */
    public static HttpResponse<Buffer> addVersion(Api api, String token, String slug, String version, String fixture) {
        Path dir = Files.exists(GATES.resolve(fixture + ".pt")) ? GATES : Publishing.FIXTURES;
        JsonObject manifest = new JsonObject(Buffer.buffer(read(dir.resolve(fixture + ".json"))));
        manifest.remove("expected_outputs");
        manifest.remove("evaluation");
        String sha = Publishing.upload(api, token, read(dir.resolve(fixture + ".pt")));
        HttpResponse<Buffer> r = api.post("/api/v1/models/" + slug + "/versions", token, new JsonObject()
                .put("version", version).put("artifactSha256", sha).put("manifest", manifest));
        assertEquals(201, r.statusCode(), r.bodyAsString());
        return r;
    }

    public static HttpResponse<Buffer> publish(Api api, String token, String slug, String version, JsonObject body) {
        return api.post("/api/v1/models/" + slug + "/versions/" + version + "/publish", token, body);
    }

    public static JsonObject breastCancerDataset(Api api, String token) {
        String sha = Publishing.upload(api, token, read(BREAST_CANCER_CSV));
        HttpResponse<Buffer> r = api.post("/api/v1/datasets", token, new JsonObject().put("uploadSha256", sha)
                .put("name", "breast cancer").put("labelColumn", "label").put("task", "classification"));
        assertEquals(201, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    /** The CSV's rows: 30 features, then the label. */
    public static List<String[]> breastCancerRows() {
        try {
            return Files.readAllLines(BREAST_CANCER_CSV).stream().skip(1).map(line -> line.split(",")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An inference request for one row, with its true label as feedback. */
    public static JsonObject request(String[] row) {
        JsonArray data = new JsonArray();
        for (int i = 0; i < 30; i++) {
            data.add(Double.parseDouble(row[i]));
        }
        return new JsonObject()
                .put("inputs", new JsonArray().add(new JsonObject().put("name", "features").put("datatype", "FP32")
                        .put("shape", new JsonArray().add(1).add(30)).put("data", data)))
                .put("parameters", new JsonObject().put("label", row[30]));
    }

    public static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
