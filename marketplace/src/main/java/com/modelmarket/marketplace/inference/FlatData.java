package com.modelmarket.marketplace.inference;

import io.vertx.core.json.JsonArray;
import java.math.BigInteger;
import java.util.Arrays;

/**
 * A tensor's {@code data} array, flattened, each element kept as a kind and 64 bits, with no
 * boxing: what the streaming request parser ({@link InferenceJson}) makes, and what {@link #of}
 * makes of an already parsed {@code JsonArray}, so that {@link TensorCodec} checks one form only.
 */
final class FlatData {

    /** What one element was in the JSON text. */
    enum Kind {
        /** A whole number that fits a {@code long}; bits are the value. */
        LONG,
        /** A number with a fraction or exponent; bits are the {@code double}'s. */
        DOUBLE,
        /** A whole number beyond {@code long}; bits are its {@code double} value's. */
        BIG,
        TRUE,
        FALSE,
        /** A string, null or object. */
        OTHER
    }

    private static final Kind[] KINDS = Kind.values();
    /** Nesting deeper than this is refused (the outermost array is depth 0). */
    static final int MAX_DEPTH = 16;

    private byte[] kinds = new byte[64];
    private long[] bits = new long[64];
    private int size;
    /** How many elements came before the first array nested too deeply; -1 for none. */
    private int tooDeepAt = -1;

    /** The elements of a parsed array, depth first, as the streaming parser would have read them. */
    static FlatData of(JsonArray array) {
        FlatData out = new FlatData();
        out.addAll(array, 0);
        return out;
    }

    private void addAll(JsonArray array, int depth) {
        for (int i = 0; i < array.size(); i++) {
            Object v = array.getValue(i);
            if (v instanceof JsonArray nested) {
                if (depth + 1 > MAX_DEPTH) {
                    markTooDeep();
                } else {
                    addAll(nested, depth + 1);
                }
            } else if (v instanceof Boolean b) {
                add(b ? Kind.TRUE : Kind.FALSE, b ? 1 : 0);
            } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
                add(Kind.LONG, ((Number) v).longValue());
            } else if (v instanceof BigInteger big) {
                if (big.bitLength() < 64) {
                    add(Kind.LONG, big.longValue());
                } else {
                    add(Kind.BIG, Double.doubleToRawLongBits(big.doubleValue()));
                }
            } else if (v instanceof Number n) {
                add(Kind.DOUBLE, Double.doubleToRawLongBits(n.doubleValue()));
            } else {
                add(Kind.OTHER, 0);
            }
        }
    }

    void add(Kind kind, long value) {
        if (size == kinds.length) {
            int grown = Math.max(64, size + (size >> 1));
            kinds = Arrays.copyOf(kinds, grown);
            bits = Arrays.copyOf(bits, grown);
        }
        kinds[size] = (byte) kind.ordinal();
        bits[size] = value;
        size++;
    }

    void markTooDeep() {
        if (tooDeepAt < 0) {
            tooDeepAt = size;
        }
    }

    /**
     * Whether an array nested too deeply comes before the {@code limit + 1}th element: where a
     * depth-first walk that stops after {@code limit + 1} elements would have met it.
     */
    boolean tooDeepWithin(long limit) {
        return tooDeepAt >= 0 && tooDeepAt <= limit;
    }

    int size() {
        return size;
    }

    Kind kind(int i) {
        return KINDS[kinds[i]];
    }

    long bits(int i) {
        return bits[i];
    }

    /** The element as a double, for the number kinds. */
    double doubleValue(int i) {
        return kind(i) == Kind.LONG ? (double) bits[i] : Double.longBitsToDouble(bits[i]);
    }

    @Override
    public String toString() {
        return "FlatData[" + size + " elements]";
    }
}
