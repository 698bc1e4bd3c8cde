package com.modelmarket.marketplace.inference;

import com.modelmarket.marketplace.catalog.AliasSplit;
import java.util.UUID;

/**
 * What a resolution is cached as: one target, or for an alias with a split, both sides and how a
 * call picks one. Without a split picking is one null check.
 */
record TargetRoute(InferenceTarget stable, InferenceTarget canary, int canaryPercent, AliasSplit.Stickiness stickiness) {

    static TargetRoute single(InferenceTarget target) {
        return new TargetRoute(target, null, 0, null);
    }

    boolean split() {
        return canary != null;
    }

    /** The side for a call of {@code tenant}; {@code requestId} null (metadata) picks by tenant. */
    InferenceTarget pick(UUID tenant, String requestId) {
        if (canary == null) {
            return stable;
        }
        int bucket = stickiness == AliasSplit.Stickiness.REQUEST && requestId != null
                ? SplitHash.bucket(requestId)
                : SplitHash.bucket(tenant, stable.model().id());
        return bucket < canaryPercent ? canary : stable;
    }
}
