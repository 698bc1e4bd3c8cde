package com.modelmarket.marketplace.errors;

/** One field of a request body is wrong: where (a JSON pointer) and what is wrong with it. */
public final class InvalidFieldException extends DomainException {

    private final String pointer;
    private final String problem;

    public InvalidFieldException(String pointer, String problem) {
        super(pointer + ": " + problem);
        this.pointer = pointer;
        this.problem = problem;
    }

    public String pointer() {
        return pointer;
    }

    /** What is wrong with the field, without the pointer. */
    public String problem() {
        return problem;
    }
}
