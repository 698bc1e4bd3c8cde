package com.modelmarket.serving;

/** How a request ended. */
public enum RequestOutcome {
    SUCCESS,
    /** Refused at once: queue full or engine shutting down ({@link OverloadedException}). */
    OVERLOADED,
    /** Its deadline passed ({@link DeadlineExceededException}). */
    DEADLINE_EXCEEDED,
    /** The model failed on its batch, or could not be (re)loaded ({@link InferenceFailedException}). */
    FAILED,
    /** Its inputs did not fit the manifest ({@link InvalidInputException}). */
    INVALID,
    /** No such model version ({@link ModelNotLoadedException}). */
    NOT_LOADED
}
