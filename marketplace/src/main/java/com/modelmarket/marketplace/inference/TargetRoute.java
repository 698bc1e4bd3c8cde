package com.modelmarket.marketplace.inference;

import com.modelmarket.marketplace.catalog.AliasSplit;
import java.util.UUID;

/**
 * What a resolution is cached as: one target, or for an alias with a split, both sides and how a
 * call picks one. Without a split picking is one null check.
 */
record TargetRoute(InferenceTarget stable, InferenceTarget canary, int canaryPercent, AliasSplit.Stickiness stickiness,
                   Boolean tenantOnCanary) {

    static TargetRoute single(InferenceTarget target) {
        return new TargetRoute(target, null, 0, null, null);
    }

    boolean split() {
        return canary != null;
    }

    /**
     * The side for a call of {@code tenant}, the tenant this route was resolved for: by the
     * request's id in a request-sticky split; else the tenant's assigned side ({@code
     * tenantOnCanary}, balanced across tenants by the database), or, without one, its hash bucket.
     * {@code requestId} null (metadata) picks by tenant.
     */
    InferenceTarget pick(UUID tenant, String requestId) {
        if (canary == null) {
            return stable;
        }
        if (stickiness == AliasSplit.Stickiness.REQUEST && requestId != null) {
            return SplitHash.bucket(requestId) < canaryPercent ? canary : stable;
        }
        if (tenantOnCanary != null) {
            return tenantOnCanary ? canary : stable;
        }
        return SplitHash.bucket(tenant, stable.model().id()) < canaryPercent ? canary : stable;
    }
}
