package com.modelmarket.serving.model;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The Open Inference Protocol JSON form of a {@link Tensor}: {@code {name, datatype, shape, data}},
 * written with flat data, read with flat or nested (row-major) data and every element checked
 * against the datatype. Reached through {@link Tensor#toJson} and {@link Tensor#fromJson}.
 */
final class TensorJson {

    private TensorJson() {}

    /** Open Inference Protocol JSON form: {@code {name, datatype, shape, data}}, data flat. */
    static JsonObject toJson(Tensor t) {
        JsonArray values = new JsonArray();
        ByteBuffer buf = t.data();
        int count = (int) t.elementCount();
        for (int i = 0; i < count; i++) {
            switch (t.datatype()) {
                case BOOL -> values.add(buf.get(i) != 0);
                case UINT8 -> values.add(buf.get(i) & 0xFF);
                case INT8 -> values.add((int) buf.get(i));
                case INT16 -> values.add((int) buf.getShort(i * 2));
                case INT32 -> values.add(buf.getInt(i * 4));
                case INT64 -> values.add(buf.getLong(i * 8));
                case FP32 -> values.add(buf.getFloat(i * 4));
                case FP64 -> values.add(buf.getDouble(i * 8));
            }
        }
        JsonArray dims = new JsonArray();
        for (long d : t.shape()) {
            dims.add(d);
        }
        return new JsonObject()
                .put("name", t.name())
                .put("datatype", t.datatype().oipName())
                .put("shape", dims)
                .put("data", values);
    }

    /**
     * Reads an Open Inference Protocol JSON tensor. {@code data} may be flat or nested (row-major).
     *
     * @throws IllegalArgumentException saying which field is wrong
     */
    static Tensor fromJson(JsonObject json) {
        String name = json.getString("name");
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("tensor without a name");
        }
        DataType type = DataType.fromOipName(json.getString("datatype"));
        long[] shape = TensorSpec.readShape(json.getJsonArray("shape"), "tensor " + name, false);
        JsonArray flat = new JsonArray();
        flatten(json.getJsonArray("data"), flat, name);
        long count = Tensor.elementCount(shape);
        if (flat.size() != count) {
            throw new IllegalArgumentException(
                    "tensor " + name + ": shape " + Arrays.toString(shape) + " has " + count
                            + " elements, data has " + flat.size());
        }
        ByteBuffer buf = Tensor.allocate((int) count, type);
        for (int i = 0; i < count; i++) {
            Object v = flat.getValue(i);
            switch (type) {
                case BOOL -> buf.put((byte) (asBoolean(v, name) ? 1 : 0));
                case UINT8 -> buf.put((byte) asInteger(v, name, 0, 255));
                case INT8 -> buf.put((byte) asInteger(v, name, Byte.MIN_VALUE, Byte.MAX_VALUE));
                case INT16 -> buf.putShort((short) asInteger(v, name, Short.MIN_VALUE, Short.MAX_VALUE));
                case INT32 -> buf.putInt((int) asInteger(v, name, Integer.MIN_VALUE, Integer.MAX_VALUE));
                case INT64 -> buf.putLong(asInteger(v, name, Long.MIN_VALUE, Long.MAX_VALUE));
                case FP32 -> buf.putFloat((float) asNumber(v, name));
                case FP64 -> buf.putDouble(asNumber(v, name));
            }
        }
        return Tensor.wrap(name, type, shape, buf.array());
    }

    private static void flatten(JsonArray in, JsonArray out, String name) {
        if (in == null) {
            throw new IllegalArgumentException("tensor " + name + ": missing data");
        }
        for (Object v : in) {
            if (v instanceof JsonArray nested) {
                flatten(nested, out, name);
            } else {
                out.add(v);
            }
        }
    }

    private static boolean asBoolean(Object v, String name) {
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number n && (n.doubleValue() == 0 || n.doubleValue() == 1)) {
            return n.doubleValue() == 1;
        }
        throw new IllegalArgumentException("tensor " + name + ": " + v + " is not a BOOL");
    }

    private static long asInteger(Object v, String name, long min, long max) {
        if (v instanceof Number n) {
            boolean integral = !(v instanceof Double || v instanceof Float) || n.doubleValue() % 1 == 0;
            long value = n.longValue();
            if (integral && value >= min && value <= max) {
                return value;
            }
        }
        throw new IllegalArgumentException(
                "tensor " + name + ": " + v + " is not an integer in [" + min + ", " + max + "]");
    }

    private static double asNumber(Object v, String name) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException("tensor " + name + ": " + v + " is not a number");
    }
}
