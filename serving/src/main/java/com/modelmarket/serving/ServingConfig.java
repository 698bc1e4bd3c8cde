package com.modelmarket.serving;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Objects;

/**
 * Engine-wide settings.
 *
 * @param memoryBudgetBytes memory all loaded models may use together; least recently used idle
 *     models are unloaded to make room
 * @param device {@code cpu} (default) or a CUDA device such as {@code gpu0}; an absent GPU falls
 *     back to the CPU with a warning
 * @param workerThreads threads running predictors, shared by all models (a named Vert.x pool)
 * @param intraOpThreads PyTorch threads per operator; keep {@code intraOpThreads * workerThreads}
 *     at or under the core count
 * @param interOpThreads PyTorch threads running independent graph nodes
 * @param graphOptimizer TorchScript profiling executor: re-optimises per input shape after a few
 *     slow calls; off by default because batches change shape all the time
 * @param shutdownTimeout how long {@code close()} lets queued and running work finish
 * @param idleCheckInterval how often idle workers and models are looked for
 * @param spareThreads extra threads in the predictor pool for workers stuck in a forward pass: a
 *     stuck worker is replaced while a spare thread is left, so a hung model cannot starve the
 *     others; forward passes never run on more than {@code workerThreads} threads at once
 * @param stuckGrace how long a batch may run past the latest deadline of its requests before its
 *     worker is declared stuck, abandoned and replaced (in-process only; a host is killed instead)
 * @param hosts where model code runs: sandboxed model hosts (the default) or this JVM
 */
public record ServingConfig(
        long memoryBudgetBytes,
        String device,
        int workerThreads,
        int intraOpThreads,
        int interOpThreads,
        boolean graphOptimizer,
        Duration shutdownTimeout,
        Duration idleCheckInterval,
        int spareThreads,
        Duration stuckGrace,
        HostConfig hosts) {

    public ServingConfig {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        Objects.requireNonNull(idleCheckInterval, "idleCheckInterval");
        Objects.requireNonNull(stuckGrace, "stuckGrace");
        Objects.requireNonNull(hosts, "hosts");
        if (memoryBudgetBytes <= 0 || workerThreads < 1 || intraOpThreads < 1 || interOpThreads < 1) {
            throw new IllegalArgumentException("budget and thread counts must be positive");
        }
        if (idleCheckInterval.toMillis() < 1) {
            throw new IllegalArgumentException("idleCheckInterval must be at least 1 ms");
        }
        if (spareThreads < 0 || stuckGrace.isNegative()) {
            throw new IllegalArgumentException("spareThreads and stuckGrace must not be negative");
        }
    }

    /** The settings before stuck workers were replaced: spare threads and grace get their defaults. */
    public ServingConfig(long memoryBudgetBytes, String device, int workerThreads, int intraOpThreads,
            int interOpThreads, boolean graphOptimizer, Duration shutdownTimeout,
            Duration idleCheckInterval) {
        this(memoryBudgetBytes, device, workerThreads, intraOpThreads, interOpThreads, graphOptimizer,
                shutdownTimeout, idleCheckInterval, defaultSpareThreads(workerThreads),
                DEFAULT_STUCK_GRACE, HostConfig.defaults());
    }

    public static final Duration DEFAULT_STUCK_GRACE = Duration.ofSeconds(2);
    /** The device of {@link #defaults()}; {@link #withDevice} (from the configuration file) changes it. */
    public static final String DEFAULT_DEVICE = "cpu";

    /**
     * CPU, one worker thread per core, each with one intra-op thread (several single-threaded
     * predictors beat one multi-threaded one on small models, and never oversubscribe the cores),
     * a 2 GiB budget; as many spare threads as worker threads (at least 2) for stuck workers, which
     * are declared stuck 2 s past their deadline.
     */
    public static ServingConfig defaults() {
        int cores = Runtime.getRuntime().availableProcessors();
        return new ServingConfig(2L << 30, DEFAULT_DEVICE, cores, 1, 1, false, Duration.ofSeconds(30),
                Duration.ofSeconds(1), defaultSpareThreads(cores), DEFAULT_STUCK_GRACE, HostConfig.defaults());
    }

    private static int defaultSpareThreads(int workerThreads) {
        return Math.max(2, workerThreads);
    }

    public ServingConfig withMemoryBudget(long bytes) {
        return new ServingConfig(bytes, device, workerThreads, intraOpThreads, interOpThreads,
                graphOptimizer, shutdownTimeout, idleCheckInterval, spareThreads, stuckGrace, hosts);
    }

    /** Sets worker threads and derives intra-op threads as cores / workers (at least 1). */
    public ServingConfig withWorkerThreads(int threads) {
        int cores = Runtime.getRuntime().availableProcessors();
        return new ServingConfig(memoryBudgetBytes, device, threads, Math.max(1, cores / threads),
                interOpThreads, graphOptimizer, shutdownTimeout, idleCheckInterval, spareThreads, stuckGrace, hosts);
    }

    /** PyTorch's threads per operator and for independent graph nodes, as they are (no derivation). */
    public ServingConfig withTorchThreads(int intraOp, int interOp) {
        return new ServingConfig(memoryBudgetBytes, device, workerThreads, intraOp, interOp,
                graphOptimizer, shutdownTimeout, idleCheckInterval, spareThreads, stuckGrace, hosts);
    }

    public ServingConfig withGraphOptimizer(boolean on) {
        return new ServingConfig(memoryBudgetBytes, device, workerThreads, intraOpThreads, interOpThreads,
                on, shutdownTimeout, idleCheckInterval, spareThreads, stuckGrace, hosts);
    }

    public ServingConfig withHosts(HostConfig h) {
        return new ServingConfig(memoryBudgetBytes, device, workerThreads, intraOpThreads,
                interOpThreads, graphOptimizer, shutdownTimeout, idleCheckInterval, spareThreads, stuckGrace, h);
    }

    /** Models run inside this JVM: trusted single-tenant use and in-process benchmarks only. */
    public ServingConfig inProcess() {
        return withHosts(hosts.withSandbox(HostConfig.Sandbox.OFF));
    }

    public ServingConfig withDevice(String name) {
        return new ServingConfig(memoryBudgetBytes, name, workerThreads, intraOpThreads,
                interOpThreads, graphOptimizer, shutdownTimeout, idleCheckInterval, spareThreads, stuckGrace, hosts);
    }

    public ServingConfig withShutdownTimeout(Duration timeout) {
        return new ServingConfig(memoryBudgetBytes, device, workerThreads, intraOpThreads,
                interOpThreads, graphOptimizer, timeout, idleCheckInterval, spareThreads, stuckGrace, hosts);
    }

    public ServingConfig withIdleCheckInterval(Duration interval) {
        return new ServingConfig(memoryBudgetBytes, device, workerThreads, intraOpThreads,
                interOpThreads, graphOptimizer, shutdownTimeout, interval, spareThreads, stuckGrace, hosts);
    }

    /** Spare predictor threads for stuck workers, and how far past its deadline a batch is stuck. */
    public ServingConfig withStuckWorkers(int spare, Duration grace) {
        return new ServingConfig(memoryBudgetBytes, device, workerThreads, intraOpThreads,
                interOpThreads, graphOptimizer, shutdownTimeout, idleCheckInterval, spare, grace, hosts);
    }

    /** Reads the keys written by {@link #toJson()}; absent keys keep their {@link #defaults()}. */
    public static ServingConfig fromJson(JsonObject json) {
        ServingConfig d = defaults();
        int workers = json.getInteger("workerThreads", d.workerThreads);
        int cores = Runtime.getRuntime().availableProcessors();
        return new ServingConfig(
                json.getLong("memoryBudgetBytes", d.memoryBudgetBytes),
                json.getString("device", d.device),
                workers,
                json.getInteger("intraOpThreads", Math.max(1, cores / workers)),
                json.getInteger("interOpThreads", d.interOpThreads),
                json.getBoolean("graphOptimizer", d.graphOptimizer),
                Duration.ofMillis(json.getLong("shutdownTimeoutMs", d.shutdownTimeout.toMillis())),
                Duration.ofMillis(json.getLong("idleCheckIntervalMs", d.idleCheckInterval.toMillis())),
                json.getInteger("spareThreads", defaultSpareThreads(workers)),
                Duration.ofMillis(json.getLong("stuckGraceMs", d.stuckGrace.toMillis())),
                json.getJsonObject("hosts") == null ? d.hosts : HostConfig.fromJson(json.getJsonObject("hosts")));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("memoryBudgetBytes", memoryBudgetBytes)
                .put("device", device)
                .put("workerThreads", workerThreads)
                .put("intraOpThreads", intraOpThreads)
                .put("interOpThreads", interOpThreads)
                .put("graphOptimizer", graphOptimizer)
                .put("shutdownTimeoutMs", shutdownTimeout.toMillis())
                .put("idleCheckIntervalMs", idleCheckInterval.toMillis())
                .put("spareThreads", spareThreads)
                .put("stuckGraceMs", stuckGrace.toMillis())
                .put("hosts", hosts.toJson());
    }
}
