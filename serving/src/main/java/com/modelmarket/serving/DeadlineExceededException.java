package com.modelmarket.serving;

/** A request's deadline passed; if it had not started by then, it was never run. */
public final class DeadlineExceededException extends ServingException {

    private final boolean started;

    public DeadlineExceededException(String message, boolean started) {
        super(message);
        this.started = started;
    }

    public DeadlineExceededException(String message, boolean started, Throwable cause) {
        super(message, cause);
        this.started = started;
    }

    /** Whether the model had already begun computing it (the compute time is then spent). */
    public boolean started() {
        return started;
    }
}
