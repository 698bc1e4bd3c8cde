package com.modelmarket.marketplace.inference;

import java.util.Arrays;

/**
 * A tensor's {@code data} array as the streaming request parser found it: flattened, each element
 * kept as a kind and 64 bits, with no boxing. Its checks and conversions are those of {@link
 * TensorCodec} for a {@code JsonArray}, so both paths refuse the same requests with the same words.
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

    private byte[] kinds = new byte[64];
    private long[] bits = new long[64];
    private int size;
    /** How many elements came before the first array nested too deeply; -1 for none. */
    private int tooDeepAt = -1;

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
