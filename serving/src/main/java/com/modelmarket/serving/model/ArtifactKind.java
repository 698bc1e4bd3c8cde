package com.modelmarket.serving.model;

import java.util.Arrays;

/**
 * What a model version's stored file is, declared by its manifest's {@code "artifact"} field, so
 * that each file is checked and loaded only as the kind it claims to be.
 */
public enum ArtifactKind {
    /** A {@code torch.jit.save} archive: publisher code, statically checked and run in a sandbox. */
    TORCHSCRIPT("torchscript"),
    /**
     * A {@code modelmarket.trained-model} archive made by the platform's trainer: parameters for a
     * block the platform itself builds, with no code in it.
     */
    TRAINED_MODEL("trained-model");

    private final String jsonName;

    ArtifactKind(String jsonName) {
        this.jsonName = jsonName;
    }

    /** The manifest's spelling, e.g. {@code "trained-model"}. */
    public String jsonName() {
        return jsonName;
    }

    /**
     * Parses the manifest field; absent means {@link #TORCHSCRIPT}, what every manifest meant before
     * the field existed.
     *
     * @throws IllegalArgumentException naming the known kinds when the value is unknown
     */
    public static ArtifactKind fromJsonName(String name) {
        if (name == null) {
            return TORCHSCRIPT;
        }
        for (ArtifactKind kind : values()) {
            if (kind.jsonName.equals(name)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown artifact '" + name + "'; known: "
                + Arrays.stream(values()).map(ArtifactKind::jsonName).toList());
    }
}
