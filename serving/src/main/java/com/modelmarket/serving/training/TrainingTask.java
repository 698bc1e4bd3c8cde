package com.modelmarket.serving.training;

import java.util.Locale;

/** What a recipe learns: a class among named labels, or one real value. */
public enum TrainingTask {
    CLASSIFICATION,
    REGRESSION;

    /** The lower-case name used in recipes and manifests. */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code classification} or {@code regression}; anything else is null. */
    static TrainingTask parse(String name) {
        for (TrainingTask t : values()) {
            if (t.jsonName().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
