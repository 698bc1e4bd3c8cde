package com.modelmarket.marketplace.catalog;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** What a catalog entry is: a pretrained model with uploaded versions, or a trainable algorithm. */
public enum ModelKind {
    MODEL,
    ALGORITHM;

    /** The names the API and the database use. */
    public static final List<String> WIRE = Arrays.stream(values()).map(ModelKind::wire).toList();

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The kind a wire name stands for, or empty if it names none. */
    public static Optional<ModelKind> parse(String wire) {
        return Arrays.stream(values()).filter(k -> k.wire().equals(wire)).findFirst();
    }

    @Override
    public String toString() {
        return wire();
    }
}
