package com.modelmarket.serving.training;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * What a fine-tuning run measured: the base model and the tuned one on the same held-out rows
 * (indices into the rows it was given), from each model's own outputs.
 *
 * @param outputs how the model's outputs were read for the loss: {@code probabilities} (rows that
 *     sum to 1: cross-entropy on their log), {@code logits} (softmax cross-entropy) or {@code
 *     values} (L2, regression)
 * @param finalLoss the mean training loss of the last epoch
 */
public record FineTuneReport(HeldOutMetrics base, HeldOutMetrics tuned, int[] heldOutRows, int trainRows,
        int epochs, long steps, double finalLoss, String outputs, Duration took) {

    public JsonObject toJson() {
        JsonArray heldOut = new JsonArray();
        for (int r : heldOutRows) {
            heldOut.add(r);
        }
        return new JsonObject().put("base", base.toJson()).put("tuned", tuned.toJson()).put("heldOutRows", heldOut)
                .put("trainRows", trainRows).put("epochs", epochs).put("steps", steps).put("finalLoss", finalLoss)
                .put("outputs", outputs).put("tookMillis", took.toMillis());
    }

    /** Reads what {@link #toJson} wrote (a model host's answer: untrusted, so every field is typed). */
    public static FineTuneReport fromJson(JsonObject json) {
        JsonArray rows = json.getJsonArray("heldOutRows");
        int[] heldOut = new int[rows.size()];
        for (int i = 0; i < heldOut.length; i++) {
            heldOut[i] = rows.getInteger(i);
        }
        return new FineTuneReport(HeldOutMetrics.fromJson(json.getJsonObject("base")),
                HeldOutMetrics.fromJson(json.getJsonObject("tuned")), heldOut, json.getInteger("trainRows"),
                json.getInteger("epochs"), json.getLong("steps"), json.getDouble("finalLoss"),
                json.getString("outputs"), Duration.ofMillis(json.getLong("tookMillis")));
    }
}
