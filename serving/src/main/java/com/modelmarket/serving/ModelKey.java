package com.modelmarket.serving;

import java.util.Objects;

/**
 * Identifies one servable model version, e.g. {@code digits:3}, and whose code it is: the {@code
 * owner} (the publishing tenant) decides which model host runs it, so one publisher's code never
 * shares a process with another's.
 */
public record ModelKey(String owner, String model, String version) {

    public ModelKey {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(version, "version");
    }

    @Override
    public String toString() {
        return model + ":" + version;
    }
}
