package com.modelmarket.serving;

/**
 * Base of the typed failures the engine reports through its futures. The HTTP layer maps each
 * subtype to one status in one place: {@link OverloadedException} 503 (+ Retry-After), {@link
 * DeadlineExceededException} 504, {@link InvalidInputException} 400, {@link
 * ModelRejectedException} 422 (413 for {@link ModelRejectedException.Check#SIZE}), {@link
 * ModelNotLoadedException} 404, {@link InferenceFailedException} 500.
 */
public abstract class ServingException extends RuntimeException {

    protected ServingException(String message) {
        super(message);
    }

    protected ServingException(String message, Throwable cause) {
        super(message, cause);
    }
}
