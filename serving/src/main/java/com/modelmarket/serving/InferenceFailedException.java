package com.modelmarket.serving;

/**
 * The model failed while computing a batch (an exception in the model, a result that breaks its
 * manifest, or a failed cold start). Only the requests of that batch fail.
 */
public final class InferenceFailedException extends ServingException {

    public InferenceFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
