package com.modelmarket.serving.store;

import java.nio.file.Path;
import java.util.Objects;

/** A model file in the {@link ModelStore}, addressed by the SHA-256 of its bytes (lowercase hex). */
public record StoredArtifact(String sha256, long sizeBytes, Path path) {

    public StoredArtifact {
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(path, "path");
    }
}
