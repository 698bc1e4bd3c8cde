package com.modelmarket.serving.training;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The concrete hyperparameters of one training run, resolved from a recipe's schema and what the
 * caller gave ({@link TrainingRecipe#resolve}).
 *
 * @param hiddenSizes the MLP's hidden layer widths (ignored by a linear recipe)
 * @param earlyStoppingPatience epochs without a better validation loss before stopping; 0 = never
 * @param validationFraction the part of the training split held back for early stopping and the
 *     per-epoch validation figures; 0 = none
 */
public record Hyperparameters(int epochs, double learningRate, int batchSize, List<Integer> hiddenSizes,
        double weightDecay, int earlyStoppingPatience, double validationFraction, long seed) {

    public Hyperparameters {
        hiddenSizes = List.copyOf(hiddenSizes);
    }

    /** The same hyperparameters with another seed. */
    public Hyperparameters withSeed(long newSeed) {
        return new Hyperparameters(epochs, learningRate, batchSize, hiddenSizes, weightDecay,
                earlyStoppingPatience, validationFraction, newSeed);
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put(Hyperparameter.EPOCHS.jsonName(), epochs)
                .put(Hyperparameter.LEARNING_RATE.jsonName(), learningRate)
                .put(Hyperparameter.BATCH_SIZE.jsonName(), batchSize)
                .put(Hyperparameter.HIDDEN_SIZES.jsonName(), new JsonArray(List.copyOf(hiddenSizes)))
                .put(Hyperparameter.WEIGHT_DECAY.jsonName(), weightDecay)
                .put(Hyperparameter.EARLY_STOPPING_PATIENCE.jsonName(), earlyStoppingPatience)
                .put(Hyperparameter.VALIDATION_FRACTION.jsonName(), validationFraction)
                .put(Hyperparameter.SEED.jsonName(), seed);
    }

    /** Reads {@link #toJson} (every field present and of its type), as a job process receives it. */
    public static Hyperparameters fromJson(JsonObject json) {
        List<Integer> hidden = new java.util.ArrayList<>();
        for (Object v : json.getJsonArray(Hyperparameter.HIDDEN_SIZES.jsonName())) {
            hidden.add(((Number) v).intValue());
        }
        return new Hyperparameters(json.getInteger(Hyperparameter.EPOCHS.jsonName()),
                json.getDouble(Hyperparameter.LEARNING_RATE.jsonName()),
                json.getInteger(Hyperparameter.BATCH_SIZE.jsonName()), hidden,
                json.getDouble(Hyperparameter.WEIGHT_DECAY.jsonName()),
                json.getInteger(Hyperparameter.EARLY_STOPPING_PATIENCE.jsonName()),
                json.getDouble(Hyperparameter.VALIDATION_FRACTION.jsonName()),
                json.getLong(Hyperparameter.SEED.jsonName()));
    }
}
