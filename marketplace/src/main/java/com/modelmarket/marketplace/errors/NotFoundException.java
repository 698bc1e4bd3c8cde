package com.modelmarket.marketplace.errors;

import java.util.Optional;

/**
 * The resource does not exist for this caller: another tenant's resource is not found either.
 * {@code pointer} names the request field that referred to it, when one did.
 */
public final class NotFoundException extends DomainException {

    private final String pointer;

    /** "{what} not found". */
    public NotFoundException(String what) {
        this(what + " not found", null);
    }

    private NotFoundException(String detail, String pointer) {
        super(detail);
        this.pointer = pointer;
    }

    /** Not found through the request field at {@code pointer}, with a detail of its own. */
    public static NotFoundException at(String pointer, String detail) {
        return new NotFoundException(detail, pointer);
    }

    public Optional<String> pointer() {
        return Optional.ofNullable(pointer);
    }
}
