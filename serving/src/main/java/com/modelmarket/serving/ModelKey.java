package com.modelmarket.serving;

import java.util.Objects;

/** Identifies one servable model version, e.g. {@code digits:3}. */
public record ModelKey(String model, String version) {

    public ModelKey {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(version, "version");
    }

    @Override
    public String toString() {
        return model + ":" + version;
    }
}
