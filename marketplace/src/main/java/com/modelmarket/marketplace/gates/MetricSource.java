package com.modelmarket.marketplace.gates;

import io.vertx.core.Future;
import java.util.Optional;
import java.util.UUID;

/**
 * Where a metric gate gets "metric M of version V on dataset D": today {@link MeasuredMetrics}
 * measures it by running the dataset through the serving engine; evaluation jobs can back it later
 * with their stored results. Versions and datasets never change, so a figure, once known, stays.
 */
public interface MetricSource {

    /**
     * The figure, or empty when it cannot be had (the version's inputs do not fit the dataset, the
     * dataset is gone, the metric does not apply to its task). {@code tenant} owns the version and
     * the dataset: nothing of another tenant is read.
     */
    Future<Optional<Double>> metric(UUID tenant, UUID versionId, UUID datasetId, String metric);
}
