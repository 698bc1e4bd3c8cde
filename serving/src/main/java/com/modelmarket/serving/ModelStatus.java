package com.modelmarket.serving;

/**
 * A snapshot of one registered model version.
 *
 * @param workers workers in service (stuck ones excluded)
 * @param batchCap most items one forward pass carries: {@code maxBatchSize}, or less once
 *     calibration found smaller batches as fast per item
 * @param stuckWorkers workers abandoned in a forward pass that has not returned yet
 * @param replacedWorkers workers taken out of service so far because they got stuck or broke
 */
public record ModelStatus(
        ModelKey key, State state, int workers, int busyWorkers, int queuedItems, LoadReport lastLoad,
        int batchCap, int stuckWorkers, long replacedWorkers) {

    /** Whether the weights are in memory. */
    public enum State {
        /** Being loaded (first load or cold start). */
        LOADING,
        /** In memory, serving. */
        LOADED,
        /** Registered but out of memory (idle or evicted); the next request loads it again. */
        UNLOADED
    }
}
