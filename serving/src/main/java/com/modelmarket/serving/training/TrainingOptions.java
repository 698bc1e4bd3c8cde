package com.modelmarket.serving.training;

import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * How one run is watched, bounded and scheduled; none of it changes what is learned.
 *
 * @param heldOutFraction the rows the platform keeps for its measurement (per class)
 * @param timeLimit the run fails with {@code TIME_LIMIT} once this has passed (checked between steps)
 * @param cancelled polled before every step; true ends the run with {@code CANCELLED}
 * @param progress called after every epoch (on the training thread, or on the thread that reads
 *     a job process's reports); keep it short
 * @param priority the CPU priority of the process (or thread) the run computes on
 * @param threads PyTorch's intra-op threads for the run (1: deterministic given the seed)
 */
public record TrainingOptions(double heldOutFraction, Duration timeLimit, BooleanSupplier cancelled,
        Consumer<TrainingProgress> progress, JobPriority priority, int threads) {

    public static final TrainingOptions DEFAULT =
            new TrainingOptions(0.2, Duration.ofMinutes(30), () -> false, p -> {}, JobPriority.IDLE, 1);

    public TrainingOptions {
        if (!(heldOutFraction > 0 && heldOutFraction < 0.9)) {
            throw new IllegalArgumentException("heldOutFraction must be in (0, 0.9)");
        }
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("threads must be 1..256");
        }
        Objects.requireNonNull(timeLimit);
        Objects.requireNonNull(cancelled);
        Objects.requireNonNull(progress);
        Objects.requireNonNull(priority);
    }

    public TrainingOptions withHeldOutFraction(double fraction) {
        return new TrainingOptions(fraction, timeLimit, cancelled, progress, priority, threads);
    }

    public TrainingOptions withTimeLimit(Duration limit) {
        return new TrainingOptions(heldOutFraction, limit, cancelled, progress, priority, threads);
    }

    public TrainingOptions withCancellation(BooleanSupplier check) {
        return new TrainingOptions(heldOutFraction, timeLimit, check, progress, priority, threads);
    }

    public TrainingOptions withProgress(Consumer<TrainingProgress> listener) {
        return new TrainingOptions(heldOutFraction, timeLimit, cancelled, listener, priority, threads);
    }

    public TrainingOptions withPriority(JobPriority p, int intraOpThreads) {
        return new TrainingOptions(heldOutFraction, timeLimit, cancelled, progress, p, intraOpThreads);
    }
}
