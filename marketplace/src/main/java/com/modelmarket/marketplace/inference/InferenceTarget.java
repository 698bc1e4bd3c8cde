package com.modelmarket.marketplace.inference;

import com.modelmarket.marketplace.catalog.CatalogModel;
import com.modelmarket.marketplace.catalog.ModelVersion;
import com.modelmarket.marketplace.plans.Plan;
import com.modelmarket.serving.model.ModelManifest;
import java.util.Optional;
import java.util.UUID;

/** What a call resolves to: the model, the version an id or alias names, and the caller's entitlement. */
public record InferenceTarget(CatalogModel model, ModelVersion version, ModelManifest manifest, boolean own,
                              Optional<Plan> plan, Optional<UUID> subscriptionId) {
}
