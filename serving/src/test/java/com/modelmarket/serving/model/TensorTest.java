package com.modelmarket.serving.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TensorTest {

    private static final long[] TWO_BY_TWO = {2, 2};

    @Test
    @DisplayName("every datatype survives the Open Inference Protocol JSON form unchanged")
    void jsonRoundTrip() {
        List<Tensor> tensors = List.of(
                Tensor.ofFloats("a", TWO_BY_TWO, 1.5f, -0f, Float.MAX_VALUE, 1e-30f),
                Tensor.ofDoubles("b", TWO_BY_TWO, Math.PI, -1e300, 0, 2),
                Tensor.ofInts("c", TWO_BY_TWO, Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE),
                Tensor.ofLongs("d", TWO_BY_TWO, Long.MIN_VALUE, -1, 0, Long.MAX_VALUE),
                Tensor.ofUint8("e", TWO_BY_TWO, (byte) 0, (byte) 1, (byte) 128, (byte) 255),
                Tensor.ofInt8("f", TWO_BY_TWO, new byte[] {Byte.MIN_VALUE, -1, 0, Byte.MAX_VALUE}),
                Tensor.ofShorts("g", TWO_BY_TWO, new short[] {Short.MIN_VALUE, -1, 0, Short.MAX_VALUE}),
                Tensor.ofBools("h", TWO_BY_TWO, true, false, false, true));
        for (Tensor t : tensors) {
            JsonObject json = new JsonObject(t.toJson().encode());
            assertEquals(t, Tensor.fromJson(json), t.datatype().name());
        }
        assertEquals(255, Tensor.ofUint8("e", new long[] {1}, (byte) 255).toJson()
                .getJsonArray("data").getInteger(0));
    }

    @Test
    @DisplayName("concatenating along the first dimension and slicing back gives the parts")
    void concatAndSlice() {
        Tensor a = Tensor.ofInts("x", new long[] {1, 3}, 1, 2, 3);
        Tensor b = Tensor.ofInts("x", new long[] {2, 3}, 4, 5, 6, 7, 8, 9);
        Tensor joined = Tensor.concat("x", List.of(a, b));
        assertArrayEquals(new long[] {3, 3}, joined.shape());
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, joined.toInts());
        assertEquals(a, joined.slice(0, 1));
        assertEquals(b, joined.slice(1, 3));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.concat("x", List.of(a, Tensor.ofInts("x", new long[] {1, 2}, 1, 2))));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.concat("x", List.of(a, Tensor.ofLongs("x", new long[] {1, 3}, 1, 2, 3))));
    }

    @Test
    @DisplayName("nested JSON data is read row-major; bad data is refused with a reason")
    void jsonParsing() {
        JsonObject nested = new JsonObject().put("name", "x").put("datatype", "INT64")
                .put("shape", new JsonArray().add(2).add(2))
                .put("data", new JsonArray().add(new JsonArray().add(1).add(2))
                        .add(new JsonArray().add(3).add(4)));
        assertArrayEquals(new long[] {1, 2, 3, 4}, Tensor.fromJson(nested).toLongs());

        assertThrows(IllegalArgumentException.class,
                () -> Tensor.fromJson(nested.copy().put("data", new JsonArray().add(1).add(2))));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.fromJson(nested.copy().put("datatype", "UINT8")
                        .put("data", new JsonArray().add(1).add(2).add(3).add(256))));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.fromJson(nested.copy().put("datatype", "INT32")
                        .put("data", new JsonArray().add(1).add(2).add(3).add(4.5))));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.fromJson(nested.copy().put("datatype", "FP16")));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.ofFloats("x", new long[] {2, 2}, 1, 2, 3));
    }
}
