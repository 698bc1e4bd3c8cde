package com.modelmarket.serving.training;

/** A training run that ended without a model, with its reason. */
public final class TrainingFailedException extends TrainingException {

    /** Why a run ended without a model. */
    public enum Reason {
        /** The caller's cancellation was seen between two steps. */
        CANCELLED,
        /** The run's time limit passed. */
        TIME_LIMIT,
        /** The loss became NaN or infinite. */
        DIVERGED,
        /** The engine failed (a bug or a resource problem, not the caller's data). */
        ENGINE_ERROR
    }

    private final Reason reason;

    /** Also made by the platform for a run that failed in a model host, from the host's reason. */
    public TrainingFailedException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    TrainingFailedException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
