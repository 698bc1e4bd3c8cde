package com.modelmarket.marketplace.config;

import java.time.Duration;

/**
 * The training pool's bounds ({@code training.*} in modelmarket.properties).
 *
 * @param threads jobs that run at once on this node (each in a job process of its own, which a
 *     thread of this JVM waits for)
 * @param maxQueued jobs waiting for a thread on this node; beyond, a new job is refused with 503
 * @param maxOpenPerTenant jobs one tenant may have queued or running at once; beyond, 429
 * @param maxJobTime a job running longer fails with "time limit"
 * @param heldOutFraction the share of a dataset's rows kept out of training for the platform's metrics
 * @param cpuPriority the CPU priority a job's process starts at: {@code idle} (SCHED_IDLE: only CPU
 *     time nothing else wants), {@code low} (nice 19) or {@code normal} (the model hosts' nice 5)
 * @param pytorchThreads PyTorch's intra-op threads in each job's process (1: deterministic given the seed)
 */
public record TrainingSettings(int threads, int maxQueued, int maxOpenPerTenant, Duration maxJobTime, double heldOutFraction,
                               String cpuPriority, int pytorchThreads) {

    public TrainingSettings {
        if (threads < 1 || threads > 64) {
            throw new IllegalArgumentException("training.threads must be 1..64");
        }
        if (maxQueued < 0 || maxOpenPerTenant < 1) {
            throw new IllegalArgumentException("training.max-queued must be >= 0 and training.max-open-per-tenant >= 1");
        }
        if (maxJobTime.isNegative() || maxJobTime.isZero()) {
            throw new IllegalArgumentException("training.max-job-seconds must be positive");
        }
        if (pytorchThreads < 1 || pytorchThreads > 256) {
            throw new IllegalArgumentException("training.pytorch-threads must be 1..256");
        }
        if (!java.util.List.of("idle", "low", "normal").contains(cpuPriority)) {
            throw new IllegalArgumentException("training.cpu-priority must be idle, low or normal");
        }
        if (!(heldOutFraction > 0 && heldOutFraction < 0.9)) {
            throw new IllegalArgumentException("training.held-out-fraction must be in (0, 0.9)");
        }
    }

    public static TrainingSettings defaults() {
        return new TrainingSettings(1, 16, 2, Duration.ofMinutes(30), 0.2, "idle", 1);
    }
}
