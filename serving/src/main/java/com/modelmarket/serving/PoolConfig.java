package com.modelmarket.serving;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Objects;

/**
 * How one model version is served.
 *
 * @param minWorkers workers kept while loaded; 0 lets an idle model unload itself entirely
 * @param maxWorkers workers the version may run concurrently (for TorchScript, each forward pass
 *     running at once has its own predictor)
 * @param idleTimeout how long a worker above {@code minWorkers} may sit idle before it stops
 * @param maxBatchSize most items one forward pass may carry; 1 turns batching off
 * @param maxBatchDelay how long requests that queued behind busy workers may wait for more to
 *     merge with; a request that finds a free worker and an empty queue never waits
 * @param maxQueue most items that may wait; beyond it requests fail fast as overloaded
 * @param defaultTimeout deadline for requests that bring none; zero for no deadline
 * @param memoryBytes memory charged against the engine budget; 0 estimates it from the file size
 *     and the manifest's artifact kind
 * @param calibrationBudget time the first worker may spend timing batches of 1, 2, 4, ... {@code
 *     maxBatchSize} synthetic items to find the batch size past which items/s stops improving
 *     (heavy models on a CPU get slower per item in big batches); zero turns calibration off and
 *     keeps {@code maxBatchSize} as the cap
 */
public record PoolConfig(
        int minWorkers,
        int maxWorkers,
        Duration idleTimeout,
        int maxBatchSize,
        Duration maxBatchDelay,
        int maxQueue,
        Duration defaultTimeout,
        long memoryBytes,
        Duration calibrationBudget) {

    /** Batch-size calibration within about two seconds per model version, unless turned off. */
    public static final Duration DEFAULT_CALIBRATION_BUDGET = Duration.ofSeconds(2);

    public PoolConfig {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(maxBatchDelay, "maxBatchDelay");
        Objects.requireNonNull(defaultTimeout, "defaultTimeout");
        Objects.requireNonNull(calibrationBudget, "calibrationBudget");
        if (minWorkers < 0 || maxWorkers < 1 || minWorkers > maxWorkers) {
            throw new IllegalArgumentException(
                    "need 0 <= minWorkers <= maxWorkers and maxWorkers >= 1, got " + minWorkers + ".."
                            + maxWorkers);
        }
        if (maxBatchSize < 1 || maxQueue < 1 || memoryBytes < 0) {
            throw new IllegalArgumentException("maxBatchSize and maxQueue must be >= 1, memoryBytes >= 0");
        }
        if (idleTimeout.isNegative() || maxBatchDelay.isNegative() || defaultTimeout.isNegative()
                || calibrationBudget.isNegative()) {
            throw new IllegalArgumentException("durations must not be negative");
        }
    }

    /** The settings before calibration existed: calibration gets its default budget. */
    public PoolConfig(int minWorkers, int maxWorkers, Duration idleTimeout, int maxBatchSize,
            Duration maxBatchDelay, int maxQueue, Duration defaultTimeout, long memoryBytes) {
        this(minWorkers, maxWorkers, idleTimeout, maxBatchSize, maxBatchDelay, maxQueue, defaultTimeout,
                memoryBytes, DEFAULT_CALIBRATION_BUDGET);
    }

    /**
     * One to two workers, batches of up to 16 items (fewer if calibration finds smaller batches as
     * fast) after at most 5 ms, 256 items queued.
     */
    public static PoolConfig defaults() {
        return new PoolConfig(1, 2, Duration.ofMinutes(5), 16, Duration.ofMillis(5), 256,
                Duration.ofSeconds(30), 0, DEFAULT_CALIBRATION_BUDGET);
    }

    public PoolConfig withWorkers(int min, int max) {
        return new PoolConfig(min, max, idleTimeout, maxBatchSize, maxBatchDelay, maxQueue,
                defaultTimeout, memoryBytes, calibrationBudget);
    }

    public PoolConfig withIdleTimeout(Duration timeout) {
        return new PoolConfig(minWorkers, maxWorkers, timeout, maxBatchSize, maxBatchDelay, maxQueue,
                defaultTimeout, memoryBytes, calibrationBudget);
    }

    public PoolConfig withBatching(int batchSize, Duration batchDelay) {
        return new PoolConfig(minWorkers, maxWorkers, idleTimeout, batchSize, batchDelay, maxQueue,
                defaultTimeout, memoryBytes, calibrationBudget);
    }

    public PoolConfig withMaxQueue(int queue) {
        return new PoolConfig(minWorkers, maxWorkers, idleTimeout, maxBatchSize, maxBatchDelay, queue,
                defaultTimeout, memoryBytes, calibrationBudget);
    }

    public PoolConfig withDefaultTimeout(Duration timeout) {
        return new PoolConfig(minWorkers, maxWorkers, idleTimeout, maxBatchSize, maxBatchDelay,
                maxQueue, timeout, memoryBytes, calibrationBudget);
    }

    public PoolConfig withMemoryBytes(long bytes) {
        return new PoolConfig(minWorkers, maxWorkers, idleTimeout, maxBatchSize, maxBatchDelay,
                maxQueue, defaultTimeout, bytes, calibrationBudget);
    }

    /** The calibration budget; {@link Duration#ZERO} keeps {@code maxBatchSize} as the cap. */
    public PoolConfig withCalibration(Duration budget) {
        return new PoolConfig(minWorkers, maxWorkers, idleTimeout, maxBatchSize, maxBatchDelay,
                maxQueue, defaultTimeout, memoryBytes, budget);
    }

    /** Reads the keys written by {@link #toJson()}; absent keys keep their {@link #defaults()}. */
    public static PoolConfig fromJson(JsonObject json) {
        PoolConfig d = defaults();
        return new PoolConfig(
                json.getInteger("minWorkers", d.minWorkers),
                json.getInteger("maxWorkers", d.maxWorkers),
                Duration.ofMillis(json.getLong("idleTimeoutMs", d.idleTimeout.toMillis())),
                json.getInteger("maxBatchSize", d.maxBatchSize),
                Duration.ofMillis(json.getLong("maxBatchDelayMs", d.maxBatchDelay.toMillis())),
                json.getInteger("maxQueue", d.maxQueue),
                Duration.ofMillis(json.getLong("defaultTimeoutMs", d.defaultTimeout.toMillis())),
                json.getLong("memoryBytes", d.memoryBytes),
                Duration.ofMillis(json.getLong("calibrationBudgetMs", d.calibrationBudget.toMillis())));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("minWorkers", minWorkers)
                .put("maxWorkers", maxWorkers)
                .put("idleTimeoutMs", idleTimeout.toMillis())
                .put("maxBatchSize", maxBatchSize)
                .put("maxBatchDelayMs", maxBatchDelay.toMillis())
                .put("maxQueue", maxQueue)
                .put("defaultTimeoutMs", defaultTimeout.toMillis())
                .put("memoryBytes", memoryBytes)
                .put("calibrationBudgetMs", calibrationBudget.toMillis());
    }
}
