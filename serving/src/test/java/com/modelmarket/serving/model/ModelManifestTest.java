package com.modelmarket.serving.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelManifestTest {

    private static JsonObject fixture(String name) throws IOException {
        Path dir = Path.of(System.getProperty("modelmarket.fixtures", "fixtures"));
        return new JsonObject(Files.readString(dir.resolve(name + ".json")));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"digits_mlp", "digits_cnn", "diabetes_regressor", "multi_io",
            "fail_on_poison", "hang_on_poison", "dtypes"})
    @DisplayName("fixture manifests parse and survive a JSON round trip")
    void roundTrip(String name) throws IOException {
        ModelManifest manifest = ModelManifest.fromJson(fixture(name));
        assertEquals(manifest, ModelManifest.fromJson(new JsonObject(manifest.toJson().encode())));
    }

    @Test
    @DisplayName("labels belong to the output they name")
    void labels() throws IOException {
        ModelManifest manifest = ModelManifest.fromJson(fixture("digits_mlp"));
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
                manifest.output("probabilities").orElseThrow().labels());
    }

    @Test
    @DisplayName("inconsistent manifests are refused on the manifest check, saying why")
    void refusals() throws IOException {
        JsonObject good = fixture("digits_mlp");
        List<UnaryOperator<JsonObject>> breakages = List.of(
                j -> { j.remove("example"); return j; },
                j -> { j.getJsonArray("inputs").getJsonObject(0).put("shape", new JsonArray().add(1).add(64)); return j; },
                j -> { j.getJsonArray("outputs").getJsonObject(0).put("labels", new JsonArray().add("a")); return j; },
                j -> { j.getJsonObject("example").getJsonArray("inputs").getJsonObject(0).put("name", "other"); return j; },
                j -> { j.getJsonArray("inputs").getJsonObject(0).put("datatype", "COMPLEX"); return j; },
                j -> { j.put("outputs", new JsonArray()); return j; });
        for (UnaryOperator<JsonObject> breakage : breakages) {
            ModelRejectedException e = assertThrows(ModelRejectedException.class,
                    () -> ModelManifest.fromJson(breakage.apply(good.copy())));
            assertEquals(Check.MANIFEST, e.check());
            assertTrue(e.reason() != null && !e.reason().isBlank());
        }
    }

    @Test
    @DisplayName("the artifact kind defaults to torchscript, which toJson leaves out; trained-model round-trips")
    void artifactKind() throws IOException {
        JsonObject json = fixture("digits_mlp");
        ModelManifest torchScript = ModelManifest.fromJson(json);
        assertEquals(ArtifactKind.TORCHSCRIPT, torchScript.artifact());
        assertEquals(torchScript, ModelManifest.fromJson(json.copy().put("artifact", "torchscript")));
        assertFalse(torchScript.toJson().containsKey("artifact"));

        ModelManifest trained = ModelManifest.fromJson(json.copy().put("artifact", "trained-model"));
        assertEquals(ArtifactKind.TRAINED_MODEL, trained.artifact());
        assertEquals("trained-model", trained.toJson().getString("artifact"));
        assertEquals(trained, ModelManifest.fromJson(new JsonObject(trained.toJson().encode())));
        assertEquals(trained, torchScript.withArtifact(ArtifactKind.TRAINED_MODEL));
    }

    @ParameterizedTest(name = "artifact {0}")
    @ValueSource(strings = {"\"pytorch\"", "\"TorchScript\"", "\"\"", "1", "true", "{}"})
    @DisplayName("an unknown artifact kind is refused on the manifest check, naming the field")
    void unknownArtifactKind(String value) throws IOException {
        JsonObject json = fixture("digits_mlp");
        json.put("artifact", new JsonObject("{\"v\": " + value + "}").getValue("v"));
        ModelRejectedException e = assertThrows(ModelRejectedException.class, () -> ModelManifest.fromJson(json));
        assertEquals(Check.MANIFEST, e.check());
        assertTrue(e.reason().contains("artifact"), e.reason());
    }
}
