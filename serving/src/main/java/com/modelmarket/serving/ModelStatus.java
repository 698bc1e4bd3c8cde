package com.modelmarket.serving;

/** A snapshot of one registered model version. */
public record ModelStatus(
        ModelKey key, State state, int workers, int busyWorkers, int queuedItems, LoadReport lastLoad) {

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
