package com.modelmarket.marketplace.inference;

import com.modelmarket.marketplace.errors.InvalidTensorException;
import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TensorSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Open Inference Protocol JSON tensors → serving tensors (answers are written by {@link InferenceAnswer}). Decoding checks everything the model's
 * schema says before a worker sees the request: input names, datatypes, shapes, data length,
 * element types and ranges, finiteness, and the item and element limits. Each refusal is a 400
 * that names the tensor and the reason.
 */
public final class TensorCodec {

    /** Limits on one request. */
    public record Limits(int maxItems, long maxElements) {
    }

    /**
     * A decoded request: its id, inputs in the manifest's order, the outputs asked for, the item
     * count, and which outputs are to be returned as binary data ({@code allBinary}: every one).
     */
    public record Decoded(String id, List<Tensor> inputs, List<String> outputs, int items, Set<String> binaryOutputs,
                          boolean allBinary) {

        public boolean binary(String output) {
            return allBinary || binaryOutputs.contains(output);
        }
    }

    private TensorCodec() {
    }

    public static Decoded decode(JsonObject body, ModelManifest manifest, Limits limits) {
        return decode(body, null, manifest, limits);
    }

    /**
     * Decodes a request as the route read it ({@link InferenceEnvelope}). One read in one pass is
     * checked here against the manifest and the limits without a tree; whatever this check would
     * not accept goes to {@link #decode(JsonObject, io.vertx.core.buffer.Buffer, ModelManifest, Limits)}
     * over the tree of the same bytes, so that every refusal is the tree decoder's own.
     */
    public static Decoded decode(InferenceEnvelope body, io.vertx.core.buffer.Buffer binary, ModelManifest manifest, Limits limits) {
        Decoded fast = body.fast() ? decodeRead(body, binary, manifest, limits) : null;
        return fast != null ? fast : decode(body.tree(), binary, manifest, limits);
    }

    /** The one-pass envelope checked as {@link #decode(JsonObject, io.vertx.core.buffer.Buffer, ModelManifest, Limits)} does; null where that one refuses. */
    private static Decoded decodeRead(InferenceEnvelope body, io.vertx.core.buffer.Buffer binary, ModelManifest manifest,
                                      Limits limits) {
        List<InferenceEnvelope.Input> inputs = body.inputs;
        if (inputs.isEmpty()) {
            return null;
        }
        Tensor[] tensors = new Tensor[inputs.size()];
        long items = -1;
        long elements = 0;
        int offset = 0;
        for (int i = 0; i < tensors.length; i++) {
            InferenceEnvelope.Input input = inputs.get(i);
            TensorSpec spec = spec(manifest, input.name());
            if (spec == null || givenBefore(inputs, i) || !fits(input.shape(), spec.shape())
                    || input.shape()[0] > limits.maxItems() || (items >= 0 && input.shape()[0] != items)) {
                return null;
            }
            items = input.shape()[0];
            elements += input.count();
            if (elements > limits.maxElements() || spec.datatype() != input.datatype()) {
                return null;
            }
            byte[] bytes = input.bytes();
            if (bytes == null) {
                long expected = input.count() * input.datatype().byteSize();
                if (binary == null || input.binarySize() != expected || offset + expected > binary.length()) {
                    return null;
                }
                bytes = binary.getBytes(offset, (int) (offset + expected));
                offset += (int) expected;
                if (!validBinary(bytes, input.datatype())) {
                    return null;
                }
            }
            tensors[i] = Tensor.wrap(input.name(), input.datatype(), input.shape(), bytes);
        }
        if (binary != null && offset != binary.length()) {
            return null;
        }
        for (TensorSpec spec : manifest.inputs()) {
            if (!named(inputs, spec.name())) {
                return null;
            }
        }
        for (String output : body.outputs) {
            if (manifest.output(output).isEmpty()) {
                return null;
            }
        }
        Set<String> binaryOutputs = body.binaryOutputs.isEmpty() ? Set.of() : Set.copyOf(body.binaryOutputs);
        return new Decoded(body.id, List.of(tensors), body.outputs, (int) items, binaryOutputs, body.allBinary);
    }

    private static TensorSpec spec(ModelManifest manifest, String name) {
        for (TensorSpec spec : manifest.inputs()) {
            if (spec.name().equals(name)) {
                return spec;
            }
        }
        return null;
    }

    private static boolean givenBefore(List<InferenceEnvelope.Input> inputs, int i) {
        for (int j = 0; j < i; j++) {
            if (inputs.get(j).name().equals(inputs.get(i).name())) {
                return true;
            }
        }
        return false;
    }

    private static boolean named(List<InferenceEnvelope.Input> inputs, String name) {
        for (InferenceEnvelope.Input input : inputs) {
            if (input.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** A shape of positive dimensions (as the one pass reads them) that the declared one takes. */
    private static boolean fits(long[] shape, long[] declared) {
        if (shape.length != declared.length) {
            return false;
        }
        for (int d = 0; d < shape.length; d++) {
            if (declared[d] != TensorSpec.ANY && declared[d] != shape[d]) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@link #binaryData} would take these bytes. */
    private static boolean validBinary(byte[] bytes, DataType type) {
        switch (type) {
            case FP32 -> {
                for (int i = 0; i < bytes.length; i += 4) {
                    if (!Float.isFinite(Float.intBitsToFloat((int) littleEndian(bytes, i, 4)))) {
                        return false;
                    }
                }
            }
            case FP64 -> {
                for (int i = 0; i < bytes.length; i += 8) {
                    if (!Double.isFinite(Double.longBitsToDouble(littleEndian(bytes, i, 8)))) {
                        return false;
                    }
                }
            }
            case BOOL -> {
                for (byte b : bytes) {
                    if (b != 0 && b != 1) {
                        return false;
                    }
                }
            }
            default -> {
                // every bit pattern is a valid integer
            }
        }
        return true;
    }

    private static long littleEndian(byte[] bytes, int at, int length) {
        long bits = 0;
        for (int i = length - 1; i >= 0; i--) {
            bits = (bits << 8) | (bytes[at + i] & 0xFF);
        }
        return bits;
    }

    /**
     * Decodes a request whose tensors may travel in the binary data extension: {@code binary}
     * holds the raw little-endian bytes after the JSON header, in input order, each input naming
     * its size in {@code parameters.binary_data_size}. Null when the request is all JSON.
     */
    public static Decoded decode(JsonObject body, io.vertx.core.buffer.Buffer binary, ModelManifest manifest, Limits limits) {
        int[] offset = {0};
        Object idValue = body.getValue("id");
        if (idValue != null && !(idValue instanceof String)) {
            throw invalid("request", "id must be a string");
        }
        Object inputsValue = body.getValue("inputs");
        if (!(inputsValue instanceof JsonArray inputs) || inputs.isEmpty()) {
            throw invalid("request", "inputs must be a non-empty array of tensors");
        }
        List<Tensor> decoded = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        long items = -1;
        long elements = 0;
        for (int i = 0; i < inputs.size(); i++) {
            if (!(inputs.getValue(i) instanceof JsonObject input)) {
                throw invalid("inputs[" + i + "]", "must be a tensor object");
            }
            String name = input.getValue("name") instanceof String s ? s : null;
            if (name == null) {
                throw invalid("inputs[" + i + "]", "has no name");
            }
            TensorSpec spec = input(manifest, name); // a loop: a stream per input cost more than the lookup
            if (!seen.add(name)) {
                throw invalid(name, "is given twice");
            }
            long[] shape = shape(name, input.getValue("shape"), spec, limits);
            if (items >= 0 && shape[0] != items) {
                throw invalid(name, "has " + shape[0] + " items but another input has " + items
                        + "; all inputs share the first dimension");
            }
            items = shape[0];
            long count = 1;
            for (long d : shape) {
                count = Math.multiplyExact(count, d);
            }
            elements += count;
            if (elements > limits.maxElements()) {
                throw invalid(name, "the request holds more than " + limits.maxElements() + " elements");
            }
            String datatype = input.getValue("datatype") instanceof String s ? s : null;
            if (!spec.datatype().oipName().equals(datatype)) {
                throw invalid(name, "datatype must be " + spec.datatype().oipName() + ", got " + datatype);
            }
            byte[] bytes;
            if (input.getValue("parameters") instanceof JsonObject p && p.containsKey("binary_data_size")) {
                bytes = binaryData(name, p.getValue("binary_data_size"), binary, offset, spec.datatype(), count);
            } else {
                bytes = data(name, input.getValue("data"), spec.datatype(), count);
            }
            decoded.add(Tensor.wrap(name, spec.datatype(), shape, bytes)); // bytes made for this tensor alone
        }
        if (binary != null && offset[0] != binary.length()) {
            throw invalid("request", "the body holds " + (binary.length() - offset[0])
                    + " bytes of binary data that no input claims");
        }
        for (TensorSpec spec : manifest.inputs()) {
            if (!seen.contains(spec.name())) {
                throw invalid(spec.name(), "is missing; the model needs inputs " + manifest.inputs().stream().map(TensorSpec::name).toList());
            }
        }
        Set<String> binaryOutputs = new HashSet<>();
        List<String> outputs = outputs(body.getValue("outputs"), manifest, binaryOutputs);
        boolean allBinary = body.getValue("parameters") instanceof JsonObject p
                && Boolean.TRUE.equals(p.getValue("binary_data_output"));
        return new Decoded((String) idValue, decoded, outputs, (int) items, Set.copyOf(binaryOutputs), allBinary);
    }

    private static TensorSpec input(ModelManifest manifest, String name) {
        for (TensorSpec spec : manifest.inputs()) {
            if (spec.name().equals(name)) {
                return spec;
            }
        }
        throw invalid(name, "is not an input of this model; its inputs are "
                + manifest.inputs().stream().map(TensorSpec::name).toList());
    }

    private static long[] shape(String name, Object value, TensorSpec spec, Limits limits) {
        if (!(value instanceof JsonArray array)) {
            throw invalid(name, "shape must be an array of dimensions");
        }
        long[] declared = spec.shape();
        if (array.size() != declared.length) {
            throw invalid(name, "shape " + array + " has " + array.size() + " dimensions; the model expects "
                    + declared.length + " (" + Arrays.toString(declared) + ")");
        }
        long[] shape = new long[array.size()];
        for (int d = 0; d < shape.length; d++) {
            Object dim = array.getValue(d);
            if (!(dim instanceof Number n) || !isIntegral(n) || n.longValue() < 1) {
                throw invalid(name, "shape dimensions must be positive whole numbers, got " + array);
            }
            shape[d] = n.longValue();
            if (declared[d] != TensorSpec.ANY && declared[d] != shape[d]) {
                throw invalid(name, "shape " + array + " does not match the model's " + Arrays.toString(declared));
            }
        }
        if (shape[0] > limits.maxItems()) {
            throw invalid(name, "holds " + shape[0] + " items; at most " + limits.maxItems() + " per request");
        }
        return shape;
    }

    private static byte[] data(String name, Object value, DataType type, long count) {
        if (value instanceof FlatData flat) {
            return data(name, flat, type, count);
        }
        if (!(value instanceof JsonArray array)) {
            throw invalid(name, "data must be an array (flat or nested)");
        }
        return data(name, FlatData.of(array), type, count);
    }

    /** Checks the elements against the shape and datatype and lays them out little-endian. */
    private static byte[] data(String name, FlatData flat, DataType type, long count) {
        if (flat.tooDeepWithin(count)) {
            throw invalid(name, "data is nested too deeply");
        }
        if (flat.size() != count) {
            throw invalid(name, "data holds " + Math.min(flat.size(), count + 1) + " elements but shape needs " + count);
        }
        ByteBuffer buf = ByteBuffer.allocate((int) (count * type.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < flat.size(); i++) {
            put(name, i, flat, type, buf);
        }
        return buf.array();
    }

    private static void put(String name, int i, FlatData flat, DataType type, ByteBuffer buf) {
        FlatData.Kind kind = flat.kind(i);
        switch (type) {
            case BOOL -> {
                if (kind != FlatData.Kind.TRUE && kind != FlatData.Kind.FALSE) {
                    throw element(name, i, "must be true or false");
                }
                buf.put((byte) (kind == FlatData.Kind.TRUE ? 1 : 0));
            }
            case FP32, FP64 -> {
                if (kind != FlatData.Kind.LONG && kind != FlatData.Kind.DOUBLE && kind != FlatData.Kind.BIG) {
                    throw element(name, i, "must be a number");
                }
                double d = flat.doubleValue(i);
                if (!Double.isFinite(d) || (type == DataType.FP32 && Math.abs(d) > Float.MAX_VALUE)) {
                    throw element(name, i, "must be a finite " + type + " number");
                }
                if (type == DataType.FP32) {
                    buf.putFloat((float) d);
                } else {
                    buf.putDouble(d);
                }
            }
            default -> {
                long l;
                if (kind == FlatData.Kind.LONG) {
                    l = flat.bits(i);
                } else if (kind == FlatData.Kind.DOUBLE) {
                    double d = flat.doubleValue(i);
                    if (!Double.isFinite(d) || d != Math.rint(d)) {
                        throw element(name, i, "must be a whole number");
                    }
                    if (Math.abs(d) >= 0x1p63) {
                        throw element(name, i, "is outside the range of " + type);
                    }
                    l = (long) d;
                } else {
                    throw element(name, i, "must be a whole number");
                }
                long[] range = range(type);
                if (l < range[0] || l > range[1]) {
                    throw element(name, i, "is outside the range of " + type);
                }
                switch (type) {
                    case UINT8, INT8 -> buf.put((byte) l);
                    case INT16 -> buf.putShort((short) l);
                    case INT32 -> buf.putInt((int) l);
                    default -> buf.putLong(l);
                }
            }
        }
    }

    /** Takes an input's raw bytes from the binary part, checking their size and values. */
    private static byte[] binaryData(String name, Object sizeValue, io.vertx.core.buffer.Buffer binary, int[] offset,
                                     DataType type, long count) {
        if (binary == null) {
            throw invalid(name, "binary_data_size needs a binary body (header Inference-Header-Content-Length)");
        }
        long expected = count * type.byteSize();
        if (!(sizeValue instanceof Number n) || !isIntegral(n) || n.longValue() != expected) {
            throw invalid(name, "binary_data_size must be " + expected + " bytes for its shape and datatype, got " + sizeValue);
        }
        if (offset[0] + expected > binary.length()) {
            throw invalid(name, "the body ends before this input's " + expected + " bytes of binary data");
        }
        byte[] bytes = binary.getBytes(offset[0], (int) (offset[0] + expected));
        offset[0] += (int) expected;
        ByteBuffer view = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case FP32 -> {
                for (int i = 0; i < count; i++) {
                    if (!Float.isFinite(view.getFloat(i * 4))) {
                        throw element(name, i, "must be a finite FP32 number");
                    }
                }
            }
            case FP64 -> {
                for (int i = 0; i < count; i++) {
                    if (!Double.isFinite(view.getDouble(i * 8))) {
                        throw element(name, i, "must be a finite FP64 number");
                    }
                }
            }
            case BOOL -> {
                for (int i = 0; i < count; i++) {
                    if (bytes[i] != 0 && bytes[i] != 1) {
                        throw element(name, i, "must be 0 or 1 (BOOL)");
                    }
                }
            }
            default -> {
                // every bit pattern is a valid integer
            }
        }
        return bytes;
    }

    private static long[] range(DataType type) {
        return switch (type) {
            case UINT8 -> new long[] {0, 255};
            case INT8 -> new long[] {Byte.MIN_VALUE, Byte.MAX_VALUE};
            case INT16 -> new long[] {Short.MIN_VALUE, Short.MAX_VALUE};
            case INT32 -> new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE};
            default -> new long[] {Long.MIN_VALUE, Long.MAX_VALUE};
        };
    }

    private static boolean isIntegral(Number n) {
        if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte) {
            return true;
        }
        if (n instanceof java.math.BigInteger b) {
            return b.bitLength() < 64;
        }
        double d = n.doubleValue();
        return Double.isFinite(d) && d == Math.rint(d);
    }

    private static List<String> outputs(Object value, ModelManifest manifest, Set<String> binary) {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof JsonArray array)) {
            throw invalid("outputs", "must be an array of {\"name\": ...}");
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            String name = array.getValue(i) instanceof JsonObject o && o.getValue("name") instanceof String s ? s : null;
            if (name == null) {
                throw invalid("outputs[" + i + "]", "has no name");
            }
            if (manifest.output(name).isEmpty()) {
                throw invalid(name, "is not an output of this model; its outputs are "
                        + manifest.outputs().stream().map(TensorSpec::name).toList());
            }
            names.add(name);
            if (((JsonObject) array.getValue(i)).getValue("parameters") instanceof JsonObject p
                    && Boolean.TRUE.equals(p.getValue("binary_data"))) {
                binary.add(name);
            }
        }
        return names;
    }

    private static InvalidTensorException invalid(String tensor, String reason) {
        return new InvalidTensorException(tensor, reason);
    }

    private static InvalidTensorException element(String tensor, int index, String reason) {
        return invalid(tensor, "element " + index + " " + reason);
    }
}
