package com.modelmarket.marketplace.errors;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The caller is known but may not do this. {@code hints} tell them how they could (a model's
 * plans to subscribe to, say); they are added to the answer as they are.
 */
public final class ForbiddenException extends DomainException {

    /** Why the caller is refused, when it is something other than missing rights. */
    public enum Reason {
        /** The caller's role or subscription does not allow it. */
        NOT_ALLOWED,
        /** A cookie-authenticated request came from another site. */
        CROSS_SITE_REQUEST
    }

    private final Reason reason;
    private final Map<String, String> hints = new LinkedHashMap<>();

    public ForbiddenException(String detail) {
        this(Reason.NOT_ALLOWED, detail);
    }

    public ForbiddenException(Reason reason, String detail) {
        super(detail);
        this.reason = reason;
    }

    /** Adds a hint; hints keep the order they were added in. */
    public ForbiddenException withHint(String name, String value) {
        hints.put(name, value);
        return this;
    }

    public Reason reason() {
        return reason;
    }

    public Map<String, String> hints() {
        return java.util.Collections.unmodifiableMap(hints);
    }
}
