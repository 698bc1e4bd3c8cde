package com.modelmarket.marketplace.training;

import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Who runs this process's training and evaluation jobs, for the start-up sweep: every job row
 * carries the id of the process that accepted it; a starting node ends the open jobs of processes
 * that are gone (not among {@link #liveNodes}), never those a live node of the cluster runs. Without
 * a cluster no other process runs jobs, so every open job of an earlier run is ended.
 *
 * @param nodeId this process's id: its cluster member id, or a random one without a cluster
 * @param liveNodes the ids of the cluster's members now, this process included (empty without a cluster)
 */
public record JobRunner(String nodeId, Supplier<List<String>> liveNodes) {

    /** A process of its own, no cluster: its sweep ends every open job. */
    public static JobRunner alone() {
        return new JobRunner(UUID.randomUUID().toString(), List::of);
    }
}
