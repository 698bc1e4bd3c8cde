package com.modelmarket.marketplace.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.Tensor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The streamed answer against the answer as it was built before (a {@code JsonObject} tree of the
 * outputs, encoded by Vert.x's codec; the binary outputs' bytes after it): byte for byte, over
 * seeded random outputs of every datatype (NaN and infinities included), shapes, names that need
 * escaping, with and without a request id, and every mix of JSON and binary outputs.
 */
class InferenceAnswerTest {

    private static final String[] NAMES = {"logits", "probabilities", "out \"quoted\"", "ünïcødé/λ", "tab\tand\nnewline",
        "control\u0001", "emoji \uD83D\uDE00", "</script>", "lone \uD800 surrogate", "ab\uDC00"};

    @Test
    @DisplayName("a streamed answer is byte-identical to the JsonObject-built one for 2,000 seeded random answers")
    void sameBytesAsTheTree() {
        long seed = Long.getLong("mm.test.seed", System.nanoTime());
        System.out.println("InferenceAnswerTest seed " + seed + " (-Dmm.test.seed to repeat)");
        Random random = new Random(seed);
        for (int n = 0; n < 2_000; n++) {
            List<Tensor> outputs = new ArrayList<>();
            Set<String> names = new HashSet<>();
            int count = 1 + random.nextInt(4);
            for (int i = 0; i < count; i++) {
                String name = NAMES[random.nextInt(NAMES.length)] + (i == 0 ? "" : "_" + i);
                names.add(name);
                outputs.add(randomTensor(random, name));
            }
            Set<String> binary = new HashSet<>();
            for (String name : names) {
                if (random.nextInt(3) == 0) {
                    binary.add(name);
                }
            }
            boolean allBinary = random.nextInt(5) == 0;
            String id = random.nextBoolean() ? null : NAMES[random.nextInt(NAMES.length)] + "-" + random.nextInt(1000);
            TensorCodec.Decoded request = new TensorCodec.Decoded(id, List.of(), List.of(), 1, Set.copyOf(binary), allBinary);
            String model = random.nextBoolean() ? "digits-mlp" : "modèle \"x\"";
            String version = Integer.toString(1 + random.nextInt(20));

            int answer = n;
            InferenceAnswer.Encoded streamed = InferenceAnswer.encode(model, version, request, outputs);
            Reference expected = reference(model, version, request, outputs);
            assertArrayEquals(expected.body.getBytes(), streamed.body().getBytes(), () -> "seed " + seed + " answer "
                    + answer + ": expected " + expected.body.toString(StandardCharsets.UTF_8) + " got "
                    + streamed.body().toString(StandardCharsets.UTF_8));
            assertEquals(expected.jsonLength, streamed.jsonLength(), "JSON length, seed " + seed + " answer " + n);
            assertEquals(expected.binaryBytes, streamed.binaryBytes(), "binary bytes, seed " + seed + " answer " + n);
        }
    }

    @Test
    @DisplayName("a light model's one-item answer reads as before")
    void lightAnswer() {
        Tensor logits = Tensor.ofFloats("logits", new long[] {1, 3}, 0.5f, -1.25f, 3.0E-8f);
        TensorCodec.Decoded request = new TensorCodec.Decoded("req-1", List.of(), List.of(), 1, Set.of(), false);
        InferenceAnswer.Encoded answer = InferenceAnswer.encode("light", "1", request, List.of(logits));
        assertEquals("{\"model_name\":\"light\",\"model_version\":\"1\",\"id\":\"req-1\",\"outputs\":[{\"name\":\"logits\","
                + "\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[0.5,-1.25,3.0E-8]}]}", answer.body().toString());
        assertEquals(0, answer.binaryBytes());
    }

    private static Tensor randomTensor(Random random, String name) {
        DataType type = DataType.values()[random.nextInt(DataType.values().length)];
        int rank = 1 + random.nextInt(3);
        long[] shape = new long[rank];
        long elements = 1;
        for (int d = 0; d < rank; d++) {
            shape[d] = random.nextInt(5); // a zero dimension now and then: an empty tensor
            elements *= shape[d];
        }
        byte[] bytes = new byte[(int) elements * type.byteSize()];
        random.nextBytes(bytes);
        if (type == DataType.BOOL) {
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (bytes[i] & 1);
            }
        }
        if ((type == DataType.FP32 || type == DataType.FP64) && random.nextBoolean()) {
            // ordinary numbers too, not only random bit patterns (mostly huge, tiny or NaN)
            var view = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < elements; i++) {
                double v = random.nextGaussian() * Math.pow(10, random.nextInt(12) - 6);
                if (type == DataType.FP32) {
                    view.putFloat(i * 4, (float) v);
                } else {
                    view.putDouble(i * 8, v);
                }
            }
        }
        return Tensor.of(name, type, shape, bytes);
    }

    private record Reference(Buffer body, int jsonLength, int binaryBytes) {
    }

    /** The answer as InferenceRoutes built it before the streamed encoding. */
    private static Reference reference(String model, String version, TensorCodec.Decoded request, List<Tensor> result) {
        JsonObject json = new JsonObject().put("model_name", model).put("model_version", version);
        if (request.id() != null) {
            json.put("id", request.id());
        }
        JsonArray outputs = new JsonArray();
        Buffer binary = Buffer.buffer();
        for (Tensor t : result) {
            if (request.binary(t.name())) {
                outputs.add(encodeBinaryHeader(t));
                binary.appendBytes(t.toByteArray());
            } else {
                outputs.add(encode(t));
            }
        }
        json.put("outputs", outputs);
        if (binary.length() == 0) {
            Buffer body = Buffer.buffer(json.encode()); // Responses.json: end(String)
            return new Reference(body, body.length(), 0);
        }
        Buffer header = json.toBuffer();
        int length = header.length();
        return new Reference(header.appendBuffer(binary), length, binary.length());
    }

    private static JsonObject encodeBinaryHeader(Tensor t) {
        JsonArray shape = new JsonArray();
        for (long d : t.shape()) {
            shape.add(d);
        }
        return new JsonObject().put("name", t.name()).put("datatype", t.datatype().oipName()).put("shape", shape)
                .put("parameters", new JsonObject().put("binary_data_size", t.byteSize()));
    }

    private static JsonObject encode(Tensor t) {
        JsonArray data = new JsonArray();
        switch (t.datatype()) {
            case FP32 -> {
                for (float f : t.toFloats()) {
                    data.add(f);
                }
            }
            case FP64 -> {
                for (double d : t.toDoubles()) {
                    data.add(d);
                }
            }
            case BOOL -> {
                for (boolean b : t.toBooleans()) {
                    data.add(b);
                }
            }
            case INT64 -> {
                for (long l : t.toLongs()) {
                    data.add(l);
                }
            }
            case INT32 -> {
                for (int i : t.toInts()) {
                    data.add(i);
                }
            }
            case INT16 -> {
                for (short v : t.toShorts()) {
                    data.add((int) v);
                }
            }
            case UINT8 -> {
                for (byte b : t.toByteArray()) {
                    data.add(b & 0xff);
                }
            }
            default -> {
                for (byte b : t.toByteArray()) {
                    data.add((int) b);
                }
            }
        }
        JsonArray shape = new JsonArray();
        for (long d : t.shape()) {
            shape.add(d);
        }
        return new JsonObject().put("name", t.name()).put("datatype", t.datatype().oipName()).put("shape", shape).put("data", data);
    }
}
