package com.modelmarket.serving.training;

import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * How one run is watched and bounded; none of it changes what is learned.
 *
 * @param heldOutFraction the rows the platform keeps for its measurement (per class)
 * @param timeLimit the run fails with {@code TIME_LIMIT} once this has passed (checked between steps)
 * @param cancelled polled before every step; true ends the run with {@code CANCELLED}
 * @param progress called on the training thread after every epoch; keep it short
 */
public record TrainingOptions(double heldOutFraction, Duration timeLimit, BooleanSupplier cancelled,
        Consumer<TrainingProgress> progress) {

    public static final TrainingOptions DEFAULT =
            new TrainingOptions(0.2, Duration.ofMinutes(30), () -> false, p -> {});

    public TrainingOptions {
        if (!(heldOutFraction > 0 && heldOutFraction < 0.9)) {
            throw new IllegalArgumentException("heldOutFraction must be in (0, 0.9)");
        }
        Objects.requireNonNull(timeLimit);
        Objects.requireNonNull(cancelled);
        Objects.requireNonNull(progress);
    }

    public TrainingOptions withTimeLimit(Duration limit) {
        return new TrainingOptions(heldOutFraction, limit, cancelled, progress);
    }

    public TrainingOptions withCancellation(BooleanSupplier check) {
        return new TrainingOptions(heldOutFraction, timeLimit, check, progress);
    }

    public TrainingOptions withProgress(Consumer<TrainingProgress> listener) {
        return new TrainingOptions(heldOutFraction, timeLimit, cancelled, listener);
    }
}
