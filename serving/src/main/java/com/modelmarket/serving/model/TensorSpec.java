package com.modelmarket.serving.model;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A declared input or output of a model: name, datatype and shape, where {@code -1} marks the
 * batch dimension (always the first) and any other variable dimension. Classification outputs may
 * carry labels, one per entry of their last dimension.
 */
public record TensorSpec(String name, DataType datatype, long[] shape, List<String> labels) {

    public static final long ANY = -1;

    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(datatype, "datatype");
        shape = shape.clone();
        labels = labels == null ? List.of() : List.copyOf(labels);
        if (name.isBlank()) {
            throw new IllegalArgumentException("a tensor spec needs a name");
        }
        if (shape.length == 0 || shape[0] != ANY) {
            throw new IllegalArgumentException(
                    name + ": the first dimension must be -1 (the batch dimension), shape is "
                            + Arrays.toString(shape));
        }
        for (long d : shape) {
            if (d < ANY || d == 0) {
                throw new IllegalArgumentException(
                        name + ": dimensions are positive or -1, shape is " + Arrays.toString(shape));
            }
        }
        if (!labels.isEmpty()) {
            long last = shape[shape.length - 1];
            if (shape.length < 2 || (last != ANY && last != labels.size())) {
                throw new IllegalArgumentException(
                        name + ": " + labels.size() + " labels do not fit shape " + Arrays.toString(shape));
            }
        }
    }

    public TensorSpec(String name, DataType datatype, long... shape) {
        this(name, datatype, shape, List.of());
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /**
     * Checks a concrete tensor shape and type against this spec.
     *
     * @return why they do not match, or empty when they do
     */
    public Optional<String> mismatch(DataType actualType, long[] actualShape) {
        if (actualType != datatype) {
            return Optional.of(name + " is " + actualType + ", declared " + datatype);
        }
        if (actualShape.length != shape.length) {
            return Optional.of(
                    name + " has shape " + Arrays.toString(actualShape) + ", declared "
                            + Arrays.toString(shape));
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] != ANY && shape[i] != actualShape[i]) {
                return Optional.of(
                        name + " has shape " + Arrays.toString(actualShape) + ", declared "
                                + Arrays.toString(shape));
            }
        }
        return Optional.empty();
    }

    public Optional<String> mismatch(Tensor tensor) {
        return mismatch(tensor.datatype(), tensor.shape());
    }

    public JsonObject toJson() {
        JsonArray dims = new JsonArray();
        for (long d : shape) {
            dims.add(d);
        }
        JsonObject json =
                new JsonObject().put("name", name).put("datatype", datatype.oipName()).put("shape", dims);
        if (!labels.isEmpty()) {
            json.put("labels", new JsonArray(List.copyOf(labels)));
        }
        return json;
    }

    /**
     * Reads {@code {name, datatype, shape, labels?}}.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static TensorSpec fromJson(JsonObject json) {
        String name = json.getString("name");
        JsonArray labels = json.getJsonArray("labels");
        return new TensorSpec(
                name,
                DataType.fromOipName(json.getString("datatype")),
                readShape(json.getJsonArray("shape"), name, true),
                labels == null ? List.of() : labels.stream().map(String::valueOf).toList());
    }

    static long[] readShape(JsonArray dims, String what, boolean allowAny) {
        if (dims == null) {
            throw new IllegalArgumentException(what + ": missing shape");
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            Object v = dims.getValue(i);
            if (!(v instanceof Number n) || n.doubleValue() % 1 != 0) {
                throw new IllegalArgumentException(what + ": shape entry " + v + " is not an integer");
            }
            shape[i] = n.longValue();
            if (shape[i] < (allowAny ? ANY : 0)) {
                throw new IllegalArgumentException(what + ": bad dimension " + v);
            }
        }
        return shape;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec s
                && name.equals(s.name)
                && datatype == s.datatype
                && Arrays.equals(shape, s.shape)
                && labels.equals(s.labels);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, datatype, Arrays.hashCode(shape), labels);
    }

    @Override
    public String toString() {
        return name + " " + datatype + Arrays.toString(shape);
    }
}
