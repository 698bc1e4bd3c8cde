package com.modelmarket.serving;

/** The request does not fit the model's declared inputs (names, types, shapes, sizes). */
public final class InvalidInputException extends ServingException {

    public InvalidInputException(String message) {
        super(message);
    }
}
