package com.modelmarket.marketplace.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.modelmarket.marketplace.errors.DomainException;
import com.modelmarket.marketplace.http.FailureHandler;
import com.modelmarket.marketplace.inference.InferenceJson;
import com.modelmarket.marketplace.inference.TensorCodec;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The inference route parses bodies with a streaming reader that keeps tensor data unboxed. This
 * differential test holds it to the tree decoder it replaced: for seeded hostile bodies, both
 * accept with byte-identical tensors or both refuse with the same status and words.
 */
class StreamingDecoderTest {

    private static final long SEED = Long.getLong("mm.fuzz.seed", System.nanoTime());
    private static final List<Object> ODD = List.of("1", "", true, false, 1.5, -0.0, 1e308, -1e308, 3.4e38, 3.5e38,
            255, 256, -129, 32768, Long.MAX_VALUE, Long.MIN_VALUE, 9.223372036854776E18, -9.223372036854776E18,
            new java.math.BigInteger("123456789012345678901234567890"), 4.9e-324, 1e-50);

    private final TensorCodec.Limits limits = new TensorCodec.Limits(1024, 1 << 20);

    @Test
    @DisplayName("the streaming decoder accepts and refuses exactly what the tree decoder does, with the same words")
    void sameVerdicts() {
        Random random = new Random(SEED);
        JsonFuzz fuzz = new JsonFuzz(SEED);
        int cases = Integer.getInteger("mm.fuzz.cases", 1200) * 4;
        int accepted = 0;
        for (String fixture : List.of("multi_io", "dtypes", "digits_mlp")) {
            ModelManifest manifest = ModelManifest.fromJson(Publishing.manifest(fixture));
            JsonObject valid = Publishing.manifest(fixture).getJsonObject("example");
            for (int i = 0; i < cases; i++) {
                String text = switch (random.nextInt(8)) {
                    case 0 -> fuzz.body(valid);
                    case 1 -> fuzz.mutate(valid.copy()).encode();
                    default -> mutateData(valid.copy(), random).encode();
                };
                try {
                    accepted += compare(text, manifest) ? 1 : 0;
                } catch (AssertionError e) {
                    fail("seed " + SEED + " " + fixture + " case " + i + ": " + e.getMessage() + " for "
                            + (text.length() > 300 ? text.substring(0, 300) + "…" : text));
                }
            }
        }
        System.out.println("StreamingDecoderTest seed=" + SEED + " cases=" + 3 * cases + " accepted=" + accepted);
        assertTrue(accepted > 0, "some mutations keep a valid request");
    }

    @Test
    @DisplayName("nesting, size and element edge cases get the same verdicts from both decoders")
    void edgeCases() {
        ModelManifest manifest = ModelManifest.fromJson(Publishing.manifest("digits_mlp"));
        JsonObject valid = Publishing.manifest("digits_mlp").getJsonObject("example");
        JsonArray flat = flatten(valid.getJsonArray("inputs").getJsonObject(0).getJsonArray("data"), new JsonArray());
        String deep = "[".repeat(17) + "1" + "]".repeat(17);
        for (String data : List.of(flat.encode(), flat.copy().addAll(flat).encode(), "[" + flat.encode() + "]", deep, "[" + deep + "]",
                flat.encode().replaceFirst("\\[", "[" + deep + ","), flat.encode().replaceFirst("\\]$", "," + deep + "]"),
                flat.encode().replaceFirst("\\]$", ",1," + deep + "]"), "[]", "[[]]", "[{\"a\":1}]", "[null]", "\"x\"", "{}")) {
            String text = valid.copy().put("inputs", new JsonArray().add(valid.getJsonArray("inputs").getJsonObject(0).copy()
                    .put("data", "@@"))).encode().replace("\"@@\"", data);
            compare(text, manifest);
        }
    }

    /** True when both accepted; fails when the verdicts differ. */
    private boolean compare(String text, ModelManifest manifest) {
        Object tree;
        try {
            tree = Buffer.buffer(text).toJsonValue();
        } catch (DecodeException e) {
            try {
                InferenceJson.parse(Buffer.buffer(text));
                fail("the tree parser refused it (" + e.getMessage() + "), the streaming parser did not");
            } catch (DecodeException expected) {
                return false;
            }
            return false;
        }
        Object streamed = InferenceJson.parse(Buffer.buffer(text));
        if (!(tree instanceof JsonObject treeBody)) {
            assertTrue(!(streamed instanceof JsonObject), "top-level kinds differ");
            return false;
        }
        TensorCodec.Decoded expected = null;
        DomainException expectedError = null;
        try {
            expected = TensorCodec.decode(treeBody, manifest, limits);
        } catch (DomainException e) {
            expectedError = e;
        }
        try {
            TensorCodec.Decoded actual = TensorCodec.decode((JsonObject) streamed, manifest, limits);
            if (expectedError != null) {
                fail("the tree decoder refused it (" + expectedError.getMessage() + "), the streaming one accepted");
            }
            assertEquals(expected.items(), actual.items());
            assertEquals(expected.outputs(), actual.outputs());
            assertEquals(expected.inputs().size(), actual.inputs().size());
            for (int i = 0; i < expected.inputs().size(); i++) {
                Tensor a = expected.inputs().get(i);
                Tensor b = actual.inputs().get(i);
                assertEquals(a.name(), b.name());
                assertArrayEquals(a.shape(), b.shape());
                assertArrayEquals(a.toByteArray(), b.toByteArray(), "bytes of " + a.name());
            }
            return true;
        } catch (DomainException e) {
            if (expectedError == null) {
                fail("the streaming decoder refused it (" + e.getMessage() + "), the tree one accepted");
            }
            assertEquals(FailureHandler.statusOf(expectedError), FailureHandler.statusOf(e));
            assertEquals(expectedError.getMessage(), e.getMessage());
            return false;
        }
    }

    /** Damages one input's data: an odd element, one more or fewer, deeper nesting, a reshaped copy. */
    private static JsonObject mutateData(JsonObject body, Random random) {
        JsonArray inputs = body.getJsonArray("inputs");
        JsonObject input = inputs.getJsonObject(random.nextInt(inputs.size()));
        JsonArray data = flatten(input.getJsonArray("data"), new JsonArray());
        switch (random.nextInt(7)) {
            case 6 -> data.addAll(data.copy());
            case 0 -> data.set(random.nextInt(data.size()), ODD.get(random.nextInt(ODD.size())));
            case 1 -> data.add(ODD.get(random.nextInt(ODD.size())));
            case 2 -> data.remove(random.nextInt(data.size()));
            case 3 -> {
                JsonArray nested = data;
                for (int d = random.nextInt(20); d > 0; d--) {
                    nested = new JsonArray().add(nested);
                }
                data = nested;
            }
            case 4 -> {
                int row = 1 + random.nextInt(Math.max(1, data.size()));
                JsonArray rows = new JsonArray();
                for (int i = 0; i < data.size(); i += row) {
                    rows.add(new JsonArray(data.getList().subList(i, Math.min(data.size(), i + row))));
                }
                data = rows;
            }
            default -> {
                for (int k = 1 + random.nextInt(3); k > 0; k--) {
                    data.set(random.nextInt(data.size()), ODD.get(random.nextInt(ODD.size())));
                }
            }
        }
        input.put("data", data);
        return body;
    }

    private static JsonArray flatten(JsonArray array, JsonArray out) {
        for (Object v : array) {
            if (v instanceof JsonArray a) {
                flatten(a, out);
            } else {
                out.add(v);
            }
        }
        return out;
    }
}
