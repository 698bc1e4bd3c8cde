package com.modelmarket.serving.training;

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
}
