package com.modelmarket.marketplace.catalog;

import com.modelmarket.marketplace.errors.InvalidFieldException;
import java.util.Optional;

/** A publisher's explicit decision to go past failing gates, with the reason the audit log keeps. */
public record GateOverride(String reason) {

    public GateOverride {
        if (reason == null || reason.isBlank()) {
            throw new InvalidFieldException("/reason", "is required with override, for the audit log");
        }
    }

    /** From a body's {@code override} flag and {@code reason}: none unless the flag is true. */
    public static Optional<GateOverride> of(boolean override, Optional<String> reason) {
        return override ? Optional.of(new GateOverride(reason.orElse(null))) : Optional.empty();
    }
}
