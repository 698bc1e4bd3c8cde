package com.modelmarket.marketplace.errors;

import java.util.List;
import java.util.Map;

/**
 * A publish gate refused a version (409): {@code failures} are the figures of each gate that
 * failed, as JSON-ready maps (gate, metric, dataset, both versions' values, the allowed drop; or
 * the schema differences), for the problem's {@code gates} member. The publisher may override.
 */
public final class GateFailedException extends DomainException {

    private final List<Map<String, Object>> failures;

    public GateFailedException(String detail, List<Map<String, Object>> failures) {
        super(detail);
        this.failures = List.copyOf(failures);
    }

    public List<Map<String, Object>> failures() {
        return failures;
    }
}
