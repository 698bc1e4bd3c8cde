package com.modelmarket.serving.training;

/** A trained-model archive that cannot be loaded: not one of ours, damaged, or inconsistent. */
public final class ArtifactRejectedException extends TrainingException {

    ArtifactRejectedException(String message) {
        super(message);
    }

    ArtifactRejectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
