package com.modelmarket.serving.training;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;

/**
 * A finished run: the model (close it), the platform's held-out measurement, the curve, and the
 * split so the held-out rows can be replayed against the served model.
 *
 * @param epochsRun epochs trained (fewer than asked when early stopping fired)
 * @param bestEpoch the epoch whose parameters the model has (the best validation loss, or the last)
 */
public record TrainingResult(TrainedModel model, HeldOutMetrics metrics, List<TrainingProgress> curve,
        Hyperparameters hyperparameters, DataSplit split, int epochsRun, int bestEpoch,
        boolean stoppedEarly, Duration elapsed) {

    public TrainingResult {
        curve = List.copyOf(curve);
    }

    /**
     * What the run measured and how it went, as a job's result records it: metrics, curve, split
     * (with the held-out row indices), hyperparameters, epochs, elapsed time. The model is not in it.
     */
    public JsonObject reportJson() {
        JsonArray heldOut = new JsonArray();
        for (int i : split.heldOut()) {
            heldOut.add(i);
        }
        JsonArray points = new JsonArray();
        curve.forEach(p -> points.add(p.toJson()));
        return new JsonObject()
                .put("hyperparameters", hyperparameters.toJson())
                .put("metrics", metrics.toJson())
                .put("curve", points)
                .put("split", new JsonObject().put("train", split.train().length)
                        .put("validation", split.validation().length).put("heldOutRows", heldOut))
                .put("epochsRun", epochsRun).put("bestEpoch", bestEpoch).put("stoppedEarly", stoppedEarly)
                .put("elapsedMillis", elapsed.toMillis());
    }
}
