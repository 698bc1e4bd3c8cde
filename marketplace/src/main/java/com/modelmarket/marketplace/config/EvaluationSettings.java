package com.modelmarket.marketplace.config;

import java.time.Duration;

/**
 * The evaluation pool's bounds ({@code evaluation.*} in modelmarket.properties). An evaluation job
 * runs its rows through the serving engine like any caller, so these bound how much of serving one
 * job, one tenant and this node's evaluations may take.
 *
 * @param threads jobs that run at once on this node (each drives its rows from a thread of its own)
 * @param maxQueued jobs waiting for a thread on this node; beyond, a new job is refused with 503
 * @param maxOpenPerTenant jobs one tenant may have queued or running at once; beyond, 429
 * @param maxRows rows one job evaluates at most (a larger dataset is refused, naming the field)
 * @param inFlight requests one job keeps in the engine at once: what lets the batcher merge them
 * @param rowsPerRequest rows in each request (1: every batch the engine forms is the batcher's doing)
 * @param disagreementsShown rows a comparison lists where the two versions disagree (all are counted)
 * @param maxJobTime a job running longer fails with "time limit"
 */
public record EvaluationSettings(int threads, int maxQueued, int maxOpenPerTenant, int maxRows, int inFlight,
                                 int rowsPerRequest, int disagreementsShown, Duration maxJobTime) {

    public EvaluationSettings {
        if (threads < 1 || threads > 64) {
            throw new IllegalArgumentException("evaluation.threads must be 1..64");
        }
        if (maxQueued < 0 || maxOpenPerTenant < 1) {
            throw new IllegalArgumentException("evaluation.max-queued must be >= 0 and evaluation.max-open-per-tenant >= 1");
        }
        if (maxRows < 1 || inFlight < 1 || inFlight > 1024 || rowsPerRequest < 1 || rowsPerRequest > 1024) {
            throw new IllegalArgumentException("evaluation.max-rows must be >= 1, evaluation.in-flight and "
                    + "evaluation.rows-per-request 1..1024");
        }
        if (disagreementsShown < 0 || disagreementsShown > 1000) {
            throw new IllegalArgumentException("evaluation.disagreements-shown must be 0..1000");
        }
        if (maxJobTime.isNegative() || maxJobTime.isZero()) {
            throw new IllegalArgumentException("evaluation.max-job-seconds must be positive");
        }
    }
}
