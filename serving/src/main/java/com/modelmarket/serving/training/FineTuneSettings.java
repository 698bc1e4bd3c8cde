package com.modelmarket.serving.training;

import io.vertx.core.json.JsonObject;

/**
 * The hyperparameters of one fine-tuning run (Adam on every parameter of the publisher's module).
 *
 * @param heldOutFraction the rows kept for the measurement of the base and the tuned model
 *     (stratified per class), never trained on
 */
public record FineTuneSettings(int epochs, double learningRate, int batchSize, long seed, double heldOutFraction) {

    public static final FineTuneSettings DEFAULT = new FineTuneSettings(10, 0.001, 32, 1, 0.2);

    public FineTuneSettings {
        if (epochs < 1 || epochs > 10_000) {
            throw new IllegalArgumentException("epochs must be in [1, 10000], not " + epochs);
        }
        if (!(learningRate > 0 && learningRate <= 1)) {
            throw new IllegalArgumentException("learningRate must be in (0, 1], not " + learningRate);
        }
        if (batchSize < 1 || batchSize > 65_536) {
            throw new IllegalArgumentException("batchSize must be in [1, 65536], not " + batchSize);
        }
        if (!(heldOutFraction > 0 && heldOutFraction < 0.9)) {
            throw new IllegalArgumentException("heldOutFraction must be in (0, 0.9), not " + heldOutFraction);
        }
    }

    /**
     * Reads {@code epochs}, {@code learningRate}, {@code batchSize}, {@code seed} and {@code
     * heldOutFraction}, each defaulting to {@link #DEFAULT}'s.
     *
     * @throws IllegalArgumentException a value out of range, of the wrong type, or an unknown field
     */
    public static FineTuneSettings fromJson(JsonObject json) {
        for (String field : json.fieldNames()) {
            if (!DEFAULT.toJson().containsKey(field)) {
                throw new IllegalArgumentException("unknown fine-tuning hyperparameter " + field);
            }
        }
        try {
            return new FineTuneSettings(json.getInteger("epochs", DEFAULT.epochs),
                    json.getDouble("learningRate", DEFAULT.learningRate),
                    json.getInteger("batchSize", DEFAULT.batchSize), json.getLong("seed", DEFAULT.seed),
                    json.getDouble("heldOutFraction", DEFAULT.heldOutFraction));
        } catch (ClassCastException e) {
            throw new IllegalArgumentException("a fine-tuning hyperparameter of the wrong type: " + e.getMessage());
        }
    }

    public JsonObject toJson() {
        return new JsonObject().put("epochs", epochs).put("learningRate", learningRate).put("batchSize", batchSize)
                .put("seed", seed).put("heldOutFraction", heldOutFraction);
    }
}
