package com.modelmarket.serving.training;

/**
 * A recipe or a job's hyperparameters with a bad field, named by a JSON pointer into the document
 * that was given ({@code /hyperparameters/learningRate}, {@code /architecture/kind}).
 */
public final class InvalidFieldException extends TrainingException {

    private final String pointer;
    private final String detail;

    InvalidFieldException(String pointer, String detail) {
        super(pointer + ": " + detail);
        this.pointer = pointer;
        this.detail = detail;
    }

    /** What is wrong with the field, without its pointer. */
    public String detail() {
        return detail;
    }

    /** The JSON pointer of the bad field. */
    public String pointer() {
        return pointer;
    }
}
