package com.modelmarket.serving.model;

import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An immutable named tensor: a datatype, a shape and its elements in row-major order, held
 * compactly as little-endian bytes. The first dimension is the batch ("items") dimension wherever
 * the serving engine batches.
 */
public final class Tensor {

    private final String name;
    private final DataType datatype;
    private final long[] shape;
    private final byte[] data;

    private Tensor(String name, DataType datatype, long[] shape, byte[] data) {
        this.name = Objects.requireNonNull(name, "name");
        this.datatype = Objects.requireNonNull(datatype, "datatype");
        this.shape = shape.clone();
        long expected = Math.multiplyExact(elementCount(this.shape), datatype.byteSize());
        if (data.length != expected) {
            throw new IllegalArgumentException(
                    "tensor " + name + ": shape " + Arrays.toString(shape) + " of " + datatype + " needs "
                            + expected + " bytes, got " + data.length);
        }
        this.data = data;
    }

    /**
     * Takes ownership of {@code littleEndian}, which the caller must not keep or change: for bytes
     * just made for this tensor (decoded from a request, read from a host), which {@link #of} would
     * copy once more for nothing.
     */
    public static Tensor wrap(String name, DataType datatype, long[] shape, byte[] littleEndian) {
        return new Tensor(name, datatype, shape, littleEndian);
    }

    /** A tensor from raw little-endian, row-major bytes (copied). */
    public static Tensor of(String name, DataType datatype, long[] shape, byte[] littleEndian) {
        return new Tensor(name, datatype, shape, littleEndian.clone());
    }

    public static Tensor ofFloats(String name, long[] shape, float... values) {
        ByteBuffer buf = allocate(values.length, DataType.FP32);
        buf.asFloatBuffer().put(values);
        return new Tensor(name, DataType.FP32, shape, buf.array());
    }

    public static Tensor ofDoubles(String name, long[] shape, double... values) {
        ByteBuffer buf = allocate(values.length, DataType.FP64);
        buf.asDoubleBuffer().put(values);
        return new Tensor(name, DataType.FP64, shape, buf.array());
    }

    public static Tensor ofInts(String name, long[] shape, int... values) {
        ByteBuffer buf = allocate(values.length, DataType.INT32);
        buf.asIntBuffer().put(values);
        return new Tensor(name, DataType.INT32, shape, buf.array());
    }

    public static Tensor ofLongs(String name, long[] shape, long... values) {
        ByteBuffer buf = allocate(values.length, DataType.INT64);
        buf.asLongBuffer().put(values);
        return new Tensor(name, DataType.INT64, shape, buf.array());
    }

    public static Tensor ofShorts(String name, long[] shape, short... values) {
        ByteBuffer buf = allocate(values.length, DataType.INT16);
        buf.asShortBuffer().put(values);
        return new Tensor(name, DataType.INT16, shape, buf.array());
    }

    /** UINT8 elements, each byte read as 0..255. */
    public static Tensor ofUint8(String name, long[] shape, byte... values) {
        return new Tensor(name, DataType.UINT8, shape, values.clone());
    }

    public static Tensor ofInt8(String name, long[] shape, byte... values) {
        return new Tensor(name, DataType.INT8, shape, values.clone());
    }

    public static Tensor ofBools(String name, long[] shape, boolean... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) (values[i] ? 1 : 0);
        }
        return new Tensor(name, DataType.BOOL, shape, bytes);
    }

    static ByteBuffer allocate(int count, DataType type) {
        return ByteBuffer.allocate(Math.multiplyExact(count, type.byteSize()))
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Joins tensors along the first dimension. All parts must share the datatype and every other
     * dimension; the result carries {@code name}.
     */
    public static Tensor concat(String name, List<Tensor> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("nothing to concatenate");
        }
        Tensor first = parts.get(0);
        if (parts.size() == 1) {
            return first.name.equals(name) ? first : first.withName(name);
        }
        long items = 0;
        int bytes = 0;
        for (Tensor part : parts) {
            if (part.datatype != first.datatype || !part.sameTrailingDims(first)) {
                throw new IllegalArgumentException(
                        "cannot concatenate " + first.describe() + " with " + part.describe());
            }
            items += part.items();
            bytes = Math.addExact(bytes, part.data.length);
        }
        byte[] joined = new byte[bytes];
        int offset = 0;
        for (Tensor part : parts) {
            System.arraycopy(part.data, 0, joined, offset, part.data.length);
            offset += part.data.length;
        }
        long[] shape = first.shape.clone();
        shape[0] = items;
        return new Tensor(name, first.datatype, shape, joined);
    }

    /** Items {@code from} (inclusive) to {@code to} (exclusive) along the first dimension. */
    public Tensor slice(long from, long to) {
        long items = items();
        if (from < 0 || to > items || from > to) {
            throw new IndexOutOfBoundsException("slice " + from + ".." + to + " of " + items + " items");
        }
        int itemBytes = items == 0 ? 0 : (int) (data.length / items);
        long[] sliced = shape.clone();
        sliced[0] = to - from;
        byte[] part = Arrays.copyOfRange(data, (int) from * itemBytes, (int) to * itemBytes);
        return new Tensor(name, datatype, sliced, part);
    }

    public Tensor withName(String newName) {
        return new Tensor(newName, datatype, shape, data);
    }

    public String name() {
        return name;
    }

    public DataType datatype() {
        return datatype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int axis) {
        return shape[axis];
    }

    /** Size of the first (batch) dimension; a rank-0 tensor counts as one item. */
    public long items() {
        return shape.length == 0 ? 1 : shape[0];
    }

    public long elementCount() {
        return elementCount(shape);
    }

    /** True when both tensors agree on every dimension but the first. */
    public boolean sameTrailingDims(Tensor other) {
        if (shape.length != other.shape.length || shape.length == 0) {
            return false;
        }
        for (int i = 1; i < shape.length; i++) {
            if (shape[i] != other.shape[i]) {
                return false;
            }
        }
        return true;
    }

    /** A read-only little-endian view of the elements, without copying. */
    public ByteBuffer data() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    public int byteSize() {
        return data.length;
    }

    /** Writes the raw little-endian bytes to {@code out}, which must not keep the array (a stream that copies). */
    public void writeDataTo(java.io.OutputStream out) throws java.io.IOException {
        out.write(data);
    }

    /** A copy of the raw little-endian bytes. */
    public byte[] toByteArray() {
        return data.clone();
    }

    public float[] toFloats() {
        require(DataType.FP32);
        float[] out = new float[data.length / 4];
        data().asFloatBuffer().get(out);
        return out;
    }

    public double[] toDoubles() {
        require(DataType.FP64);
        double[] out = new double[data.length / 8];
        data().asDoubleBuffer().get(out);
        return out;
    }

    public int[] toInts() {
        require(DataType.INT32);
        int[] out = new int[data.length / 4];
        data().asIntBuffer().get(out);
        return out;
    }

    public long[] toLongs() {
        require(DataType.INT64);
        long[] out = new long[data.length / 8];
        data().asLongBuffer().get(out);
        return out;
    }

    public short[] toShorts() {
        require(DataType.INT16);
        short[] out = new short[data.length / 2];
        data().asShortBuffer().get(out);
        return out;
    }

    public boolean[] toBooleans() {
        require(DataType.BOOL);
        boolean[] out = new boolean[data.length];
        for (int i = 0; i < data.length; i++) {
            out[i] = data[i] != 0;
        }
        return out;
    }

    /** Element {@code index} (row-major) widened to a double, whatever the datatype. */
    public double getAsDouble(int index) {
        ByteBuffer buf = data();
        return switch (datatype) {
            case BOOL -> data[index] != 0 ? 1 : 0;
            case UINT8 -> data[index] & 0xFF;
            case INT8 -> data[index];
            case INT16 -> buf.getShort(index * 2);
            case INT32 -> buf.getInt(index * 4);
            case INT64 -> buf.getLong(index * 8);
            case FP32 -> buf.getFloat(index * 4);
            case FP64 -> buf.getDouble(index * 8);
        };
    }

    private void require(DataType expected) {
        if (datatype != expected) {
            throw new IllegalStateException("tensor " + name + " is " + datatype + ", not " + expected);
        }
    }

    /** Open Inference Protocol JSON form: {@code {name, datatype, shape, data}}, data flat. */
    public JsonObject toJson() {
        return TensorJson.toJson(this);
    }

    /**
     * Reads an Open Inference Protocol JSON tensor. {@code data} may be flat or nested (row-major).
     *
     * @throws IllegalArgumentException saying which field is wrong
     */
    public static Tensor fromJson(JsonObject json) {
        return TensorJson.fromJson(json);
    }

    static long elementCount(long[] shape) {
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        return count;
    }

    /** {@code name FP32[2, 64]}: for messages. */
    public String describe() {
        return name + " " + datatype + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t
                && name.equals(t.name)
                && datatype == t.datatype
                && Arrays.equals(shape, t.shape)
                && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, datatype, Arrays.hashCode(shape), Arrays.hashCode(data));
    }

    @Override
    public String toString() {
        return "Tensor[" + describe() + "]";
    }
}
