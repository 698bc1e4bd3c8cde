package com.modelmarket.serving.training;

import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * One finished epoch: a point of the training curve and a progress report.
 *
 * @param step steps (mini-batches) done so far, all epochs together
 * @param trainLoss the mean of this epoch's step losses (on the standardised scale)
 * @param validationLoss on the validation rows after the epoch; NaN without validation rows
 * @param validationMetric validation accuracy (classification) or R² (regression); NaN without
 * @param remaining an estimate from the mean epoch time so far (the epoch budget, not early stopping)
 */
public record TrainingProgress(int epoch, int epochs, long step, long totalSteps, double trainLoss,
        double validationLoss, double validationMetric, String metricName, Duration elapsed,
        Duration remaining) {

    public JsonObject toJson() {
        return new JsonObject().put("epoch", epoch).put("epochs", epochs).put("step", step)
                .put("totalSteps", totalSteps).put("trainLoss", trainLoss)
                .put("validationLoss", Double.isNaN(validationLoss) ? null : validationLoss)
                .put("validationMetric", Double.isNaN(validationMetric) ? null : validationMetric)
                .put("metric", metricName).put("elapsedMs", elapsed.toMillis())
                .put("remainingMs", remaining.toMillis());
    }

    /** Reads {@link #toJson}, as a job process sends it; a missing or mistyped field fails. */
    public static TrainingProgress fromJson(JsonObject json) {
        Double valLoss = json.getDouble("validationLoss");
        Double valMetric = json.getDouble("validationMetric");
        return new TrainingProgress(json.getInteger("epoch"), json.getInteger("epochs"), json.getLong("step"),
                json.getLong("totalSteps"), json.getDouble("trainLoss"), valLoss == null ? Double.NaN : valLoss,
                valMetric == null ? Double.NaN : valMetric, json.getString("metric"),
                Duration.ofMillis(json.getLong("elapsedMs")), Duration.ofMillis(json.getLong("remainingMs")));
    }
}
