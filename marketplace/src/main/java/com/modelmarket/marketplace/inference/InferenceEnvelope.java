package com.modelmarket.marketplace.inference;

import com.fasterxml.jackson.core.JsonToken;
import com.modelmarket.serving.model.DataType;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * An inference request body as the route reads it: in the common case read in one streaming pass
 * straight into each input's little-endian bytes (no {@code JsonObject} maps, no {@link FlatData},
 * no boxed numbers), otherwise the tree {@link InferenceJson} makes.
 *
 * <p>The one pass ({@link JsonCursor}, which allocates nothing but the strings kept) takes only
 * what it can read without doubt: every field in its expected JSON type,
 * no field twice, each input's {@code shape} and {@code datatype} before its {@code data}, every
 * element valid for the datatype the input names, no {@code parameters.label}. For anything else
 * — malformed JSON included — it gives up and the body is parsed into the tree as before, so every
 * refusal is still made by {@link InferenceJson} and {@link TensorCodec} themselves, with the same
 * status, words and pointer. {@link TensorCodec#decode(InferenceEnvelope, Buffer,
 * com.modelmarket.serving.model.ModelManifest, TensorCodec.Limits)} does the same with the
 * model's manifest: what it cannot accept it hands to the tree decoder.
 */
public final class InferenceEnvelope {

    /** One input as read: its bytes laid out for the datatype it names ({@code bytes} null with {@code binarySize}). */
    record Input(String name, DataType datatype, long[] shape, long count, byte[] bytes, long binarySize) {
    }

    /** Nesting of data arrays the one pass follows (as {@link FlatData#MAX_DEPTH}; deeper goes to the tree). */
    private static final int MAX_DATA_DEPTH = FlatData.MAX_DEPTH;

    private final Buffer raw;
    private JsonObject tree;
    final String id;
    final List<Input> inputs;
    final List<String> outputs;
    final List<String> binaryOutputs;
    final boolean allBinary;

    private InferenceEnvelope(Buffer raw, JsonObject tree, String id, List<Input> inputs, List<String> outputs,
                              List<String> binaryOutputs, boolean allBinary) {
        this.raw = raw;
        this.tree = tree;
        this.id = id;
        this.inputs = inputs;
        this.outputs = outputs;
        this.binaryOutputs = binaryOutputs;
        this.allBinary = allBinary;
    }

    /** A body already parsed into a tree (tests, callers other than the route). */
    public static InferenceEnvelope of(JsonObject tree) {
        return new InferenceEnvelope(null, tree, null, null, null, null, false);
    }

    /**
     * Reads a non-empty body. Null when its top-level value is not an object; a {@code
     * DecodeException} (as {@link InferenceJson#parse} throws it) when it is not JSON.
     */
    public static InferenceEnvelope read(Buffer body) {
        InferenceEnvelope fast = onePass(body);
        if (fast != null) {
            return fast;
        }
        return InferenceJson.parse(body) instanceof JsonObject json ? new InferenceEnvelope(body, json, null, null, null, null, false) : null;
    }

    /** Whether the one pass read it (else {@link #tree()} holds it). */
    boolean fast() {
        return inputs != null;
    }

    /** Whether the tree was made (the one pass could not read the body, or its decode handed it on). */
    boolean parsedTree() {
        return tree != null;
    }

    /** The body as a tree: parsed now, from the same bytes, when the one pass read it. */
    JsonObject tree() {
        if (tree == null) {
            tree = (JsonObject) InferenceJson.parse(raw); // the one pass read an object: so does the tree parser
        }
        return tree;
    }

    /** The one pass; null when it could not read the body without doubt. */
    static InferenceEnvelope onePass(Buffer body) {
        if (body == null || body.length() == 0) {
            return null;
        }
        ByteBuf buf = ((BufferInternal) body).getByteBuf();
        if (!buf.hasArray()) {
            return null;
        }
        try {
            JsonCursor p = new JsonCursor(buf.array(), buf.arrayOffset() + buf.readerIndex(), buf.readableBytes());
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            InferenceEnvelope envelope = root(p, body);
            if (envelope == null || p.nextToken() != null) {
                return null;
            }
            return envelope;
        } catch (RuntimeException e) {
            return null; // not read (JsonCursor.GIVE_UP), or a size beyond int: the tree parser says what it is
        }
    }

    private static InferenceEnvelope root(JsonCursor p, Buffer body) {
        String id = null;
        List<Input> inputs = null;
        List<String> outputs = null;
        List<String> binaryOutputs = null;
        boolean allBinary = false;
        int seen = 0;
        String field;
        while ((field = p.nextFieldName()) != null) {
            JsonToken token = p.nextToken();
            int bit = switch (field) {
                case "id" -> 1;
                case "inputs" -> 2;
                case "outputs" -> 4;
                case "parameters" -> 8;
                default -> 0;
            };
            if ((seen & bit) != 0) {
                return null; // given twice: the tree keeps the last, the one pass does not try
            }
            seen |= bit;
            switch (bit) {
                case 1 -> {
                    if (token == JsonToken.VALUE_STRING) {
                        id = p.getText();
                    } else if (token != JsonToken.VALUE_NULL) {
                        return null;
                    }
                }
                case 2 -> {
                    if (token != JsonToken.START_ARRAY) {
                        return null;
                    }
                    inputs = new ArrayList<>(1);
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        Input input = input(p, body.length());
                        if (input == null) {
                            return null;
                        }
                        inputs.add(input);
                    }
                    if (p.currentToken() != JsonToken.END_ARRAY) {
                        return null;
                    }
                }
                case 4 -> {
                    if (token == JsonToken.VALUE_NULL) {
                        break;
                    }
                    if (token != JsonToken.START_ARRAY) {
                        return null;
                    }
                    outputs = new ArrayList<>(2);
                    binaryOutputs = new ArrayList<>(2);
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        if (!output(p, outputs, binaryOutputs)) {
                            return null;
                        }
                    }
                    if (p.currentToken() != JsonToken.END_ARRAY) {
                        return null;
                    }
                }
                case 8 -> {
                    if (token != JsonToken.START_OBJECT) {
                        return null;
                    }
                    int flag = flag(p, "binary_data_output", true);
                    if (flag < 0) {
                        return null;
                    }
                    allBinary = flag == 1;
                }
                default -> p.skipChildren();
            }
        }
        if (inputs == null) {
            return null;
        }
        return new InferenceEnvelope(body, null, id, inputs, outputs == null ? List.of() : outputs,
                binaryOutputs == null ? List.of() : binaryOutputs, allBinary);
    }

    /**
     * Reads an object's one boolean field {@code name}, skipping the others: 1 true, 0 false or
     * absent, -1 when the one pass gives up (the field twice or not a boolean; a {@code label}
     * field in the request's parameters, which only the tree reads).
     */
    private static int flag(JsonCursor p, String name, boolean root) {
        int value = 0;
        boolean seen = false;
        String field;
        while ((field = p.nextFieldName()) != null) {
            JsonToken token = p.nextToken();
            if (field.equals(name)) {
                if (seen || (token != JsonToken.VALUE_TRUE && token != JsonToken.VALUE_FALSE)) {
                    return -1;
                }
                seen = true;
                value = token == JsonToken.VALUE_TRUE ? 1 : 0;
            } else if (root && field.equals("label")) {
                return -1;
            } else {
                p.skipChildren();
            }
        }
        return value;
    }

    private static boolean output(JsonCursor p, List<String> outputs, List<String> binaryOutputs) {
        String name = null;
        int binary = 0;
        int seen = 0;
        String field;
        while ((field = p.nextFieldName()) != null) {
            JsonToken token = p.nextToken();
            if (field.equals("name")) {
                if ((seen & 1) != 0 || token != JsonToken.VALUE_STRING) {
                    return false;
                }
                seen |= 1;
                name = p.getText();
            } else if (field.equals("parameters")) {
                if ((seen & 2) != 0 || token != JsonToken.START_OBJECT) {
                    return false;
                }
                seen |= 2;
                binary = flag(p, "binary_data", false);
                if (binary < 0) {
                    return false;
                }
            } else {
                p.skipChildren();
            }
        }
        if (name == null) {
            return false;
        }
        outputs.add(name);
        if (binary == 1) {
            binaryOutputs.add(name);
        }
        return true;
    }

    /** One input object; null when the one pass gives up on it. */
    private static Input input(JsonCursor p, int bodyLength) {
        String name = null;
        DataType type = null;
        long[] shape = null;
        long count = 0;
        byte[] bytes = null;
        long binarySize = -1;
        int seen = 0;
        String field;
        while ((field = p.nextFieldName()) != null) {
            JsonToken token = p.nextToken();
            int bit = switch (field) {
                case "name" -> 1;
                case "datatype" -> 2;
                case "shape" -> 4;
                case "data" -> 8;
                case "parameters" -> 16;
                default -> 0;
            };
            if ((seen & bit) != 0) {
                return null;
            }
            seen |= bit;
            switch (bit) {
                case 1 -> {
                    if (token != JsonToken.VALUE_STRING) {
                        return null;
                    }
                    name = p.getText();
                }
                case 2 -> {
                    type = token == JsonToken.VALUE_STRING ? p.datatype() : null;
                    if (type == null) {
                        return null;
                    }
                }
                case 4 -> {
                    shape = shape(p, token);
                    if (shape == null) {
                        return null;
                    }
                    count = 1;
                    for (long d : shape) {
                        count = Math.multiplyExact(count, d); // an overflow gives up (caught): the tree refuses it
                    }
                }
                case 8 -> {
                    // each element takes at least a byte of the body: more cannot be there, and the bytes stay bounded
                    if (type == null || shape == null || token != JsonToken.START_ARRAY || count > bodyLength) {
                        return null;
                    }
                    bytes = new byte[Math.toIntExact(count * type.byteSize())];
                    if (data(p, type, bytes, 0, 0) != count) {
                        return null;
                    }
                }
                case 16 -> {
                    if (token != JsonToken.START_OBJECT) {
                        return null;
                    }
                    binarySize = binarySize(p);
                    if (binarySize == -2) {
                        return null;
                    }
                }
                default -> p.skipChildren();
            }
        }
        if (name == null || type == null || shape == null || (bytes == null) == (binarySize < 0)) {
            return null; // something missing, or both data and binary_data_size: the tree's verdict
        }
        return new Input(name, type, shape, count, bytes, binarySize);
    }

    /** A shape of whole positive numbers that fit a long; null otherwise. */
    private static long[] shape(JsonCursor p, JsonToken token) {
        if (token != JsonToken.START_ARRAY) {
            return null;
        }
        long[] dims = new long[4];
        int n = 0;
        while ((token = p.nextToken()) != JsonToken.END_ARRAY) {
            if (token != JsonToken.VALUE_NUMBER_INT) {
                return null;
            }
            long d = p.getLongValue();
            if (d < 1) {
                return null;
            }
            if (n == dims.length) {
                dims = java.util.Arrays.copyOf(dims, n * 2);
            }
            dims[n++] = d;
        }
        return n == 0 ? null : n == dims.length ? dims : java.util.Arrays.copyOf(dims, n);
    }

    /** The input parameters' {@code binary_data_size} (-1 absent), skipping the rest; -2 gives up. */
    private static long binarySize(JsonCursor p) {
        long size = -1;
        String field;
        while ((field = p.nextFieldName()) != null) {
            JsonToken token = p.nextToken();
            if (field.equals("binary_data_size")) {
                if (size != -1 || token != JsonToken.VALUE_NUMBER_INT) {
                    return -2;
                }
                size = p.getLongValue();
                if (size < 0) {
                    return -2;
                }
            } else {
                p.skipChildren();
            }
        }
        return size;
    }

    /**
     * Lays out a data array's elements, depth first, from element {@code at}; the parser stands on
     * its START_ARRAY. The elements written so far, or -1 when the one pass gives up: an element
     * the datatype does not take, too many of them, nesting too deep.
     */
    private static long data(JsonCursor p, DataType type, byte[] out, long at, int depth) {
        int size = type.byteSize();
        long capacity = out.length / size;
        JsonToken token;
        while ((token = p.nextToken()) != JsonToken.END_ARRAY) {
            if (token == JsonToken.START_ARRAY) {
                if (depth + 1 > MAX_DATA_DEPTH) {
                    return -1;
                }
                at = data(p, type, out, at, depth + 1);
                if (at < 0) {
                    return -1;
                }
                continue;
            }
            if (at == capacity || !element(p, token, type, out, (int) at * size)) {
                return -1;
            }
            at++;
        }
        return at;
    }

    /** Writes one element as TensorCodec would; false for one it would refuse (or one the one pass does not read). */
    private static boolean element(JsonCursor p, JsonToken token, DataType type, byte[] out, int pos) {
        switch (type) {
            case BOOL -> {
                if (token != JsonToken.VALUE_TRUE && token != JsonToken.VALUE_FALSE) {
                    return false;
                }
                out[pos] = (byte) (token == JsonToken.VALUE_TRUE ? 1 : 0);
                return true;
            }
            case FP32, FP64 -> {
                double d;
                if (token == JsonToken.VALUE_NUMBER_FLOAT) {
                    d = p.getDoubleValue();
                } else if (token == JsonToken.VALUE_NUMBER_INT) {
                    d = (double) p.getLongValue();
                } else {
                    return false;
                }
                if (!Double.isFinite(d) || (type == DataType.FP32 && Math.abs(d) > Float.MAX_VALUE)) {
                    return false;
                }
                if (type == DataType.FP32) {
                    putLittleEndian(out, pos, Float.floatToRawIntBits((float) d), 4);
                } else {
                    putLittleEndian(out, pos, Double.doubleToRawLongBits(d), 8);
                }
                return true;
            }
            default -> {
                long l;
                if (token == JsonToken.VALUE_NUMBER_INT) {
                    l = p.getLongValue();
                } else if (token == JsonToken.VALUE_NUMBER_FLOAT) {
                    double d = p.getDoubleValue();
                    if (!Double.isFinite(d) || d != Math.rint(d) || Math.abs(d) >= 0x1p63) {
                        return false;
                    }
                    l = (long) d;
                } else {
                    return false;
                }
                long min;
                long max;
                switch (type) {
                    case UINT8 -> { min = 0; max = 255; }
                    case INT8 -> { min = Byte.MIN_VALUE; max = Byte.MAX_VALUE; }
                    case INT16 -> { min = Short.MIN_VALUE; max = Short.MAX_VALUE; }
                    case INT32 -> { min = Integer.MIN_VALUE; max = Integer.MAX_VALUE; }
                    default -> { min = Long.MIN_VALUE; max = Long.MAX_VALUE; }
                }
                if (l < min || l > max) {
                    return false;
                }
                putLittleEndian(out, pos, l, type.byteSize());
                return true;
            }
        }
    }

    private static void putLittleEndian(byte[] out, int pos, long bits, int bytes) {
        for (int i = 0; i < bytes; i++) {
            out[pos + i] = (byte) (bits >>> (8 * i));
        }
    }
}
