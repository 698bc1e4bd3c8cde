package com.modelmarket.serving.training;

/**
 * Base of the typed failures of the training library. The HTTP layer maps each subtype to one
 * status in one place: {@link DatasetRefusedException} 400 (413 for {@link
 * DatasetRefusedException.Reason#TOO_LARGE}), {@link InvalidFieldException} 400 for a job's
 * hyperparameters and 422 for a recipe on publish, {@link TrainingFailedException} is not an HTTP
 * answer but a job's final state and reason.
 */
public abstract class TrainingException extends RuntimeException {

    protected TrainingException(String message) {
        super(message);
    }

    protected TrainingException(String message, Throwable cause) {
        super(message, cause);
    }
}
