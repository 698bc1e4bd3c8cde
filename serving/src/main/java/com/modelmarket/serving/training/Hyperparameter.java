package com.modelmarket.serving.training;

import java.util.List;

/**
 * The hyperparameters a recipe may expose, each with its fixed type, the platform's bounds (a
 * recipe may narrow them, never widen them) and the value used when a recipe does not expose it.
 */
public enum Hyperparameter {
    EPOCHS("epochs", Type.INT, 1, 10_000, 50),
    LEARNING_RATE("learningRate", Type.DOUBLE, 1e-7, 10, 0.01),
    BATCH_SIZE("batchSize", Type.INT, 1, 65_536, 32),
    HIDDEN_SIZES("hiddenSizes", Type.INT_LIST, 1, 4096, List.of(32)),
    WEIGHT_DECAY("weightDecay", Type.DOUBLE, 0, 1, 0.0),
    EARLY_STOPPING_PATIENCE("earlyStoppingPatience", Type.INT, 0, 10_000, 0),
    VALIDATION_FRACTION("validationFraction", Type.DOUBLE, 0, 0.5, 0.1),
    SEED("seed", Type.INT, 0, Integer.MAX_VALUE, 42);

    /** Longest {@code hiddenSizes} list: an MLP of at most this many hidden layers. */
    public static final int MAX_HIDDEN_LAYERS = 8;

    /** How a value is written in JSON. */
    public enum Type {
        INT("int"),
        DOUBLE("double"),
        INT_LIST("int-list");

        private final String jsonName;

        Type(String jsonName) {
            this.jsonName = jsonName;
        }

        public String jsonName() {
            return jsonName;
        }
    }

    private final String jsonName;
    private final Type type;
    private final double min;
    private final double max;
    private final Object platformDefault;

    Hyperparameter(String jsonName, Type type, double min, double max, Object platformDefault) {
        this.jsonName = jsonName;
        this.type = type;
        this.min = min;
        this.max = max;
        this.platformDefault = platformDefault;
    }

    public String jsonName() {
        return jsonName;
    }

    public Type type() {
        return type;
    }

    /** The platform's lower bound (for a list: of each element). */
    public double min() {
        return min;
    }

    /** The platform's upper bound (for a list: of each element). */
    public double max() {
        return max;
    }

    /** Used when a recipe does not expose this hyperparameter: Long, Double or List of Integer. */
    Object platformDefault() {
        return platformDefault;
    }

    static Hyperparameter byName(String name) {
        for (Hyperparameter h : values()) {
            if (h.jsonName.equals(name)) {
                return h;
            }
        }
        return null;
    }
}
