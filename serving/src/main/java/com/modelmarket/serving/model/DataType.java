package com.modelmarket.serving.model;

/**
 * Tensor element types, named as in the Open Inference Protocol (KServe v2), so that {@code
 * DataType.valueOf(json.getString("datatype"))} reads a protocol field directly.
 */
public enum DataType {
    BOOL(1),
    UINT8(1),
    INT8(1),
    INT16(2),
    INT32(4),
    INT64(8),
    FP32(4),
    FP64(8);

    private final int byteSize;

    DataType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element in the little-endian encoding that {@link Tensor} holds. */
    public int byteSize() {
        return byteSize;
    }

    /** The Open Inference Protocol name, e.g. {@code "FP32"}. */
    public String oipName() {
        return name();
    }

    public boolean isFloatingPoint() {
        return this == FP32 || this == FP64;
    }

    /**
     * Parses an Open Inference Protocol datatype name.
     *
     * @throws IllegalArgumentException naming the supported types when the name is unknown
     */
    public static DataType fromOipName(String name) {
        if (name != null) {
            for (DataType type : values()) {
                if (type.name().equals(name)) {
                    return type;
                }
            }
        }
        throw new IllegalArgumentException(
                "unsupported datatype " + name + "; supported: " + java.util.Arrays.toString(values()));
    }
}
