package com.modelmarket.serving;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * Where publisher code runs, and the limits of the model hosts that run it.
 *
 * @param sandbox {@link Sandbox#BWRAP}: every model runs in a sandboxed model-host process, one
 *     host per publisher tenant; {@link Sandbox#OFF}: models run inside the platform's JVM, for
 *     trusted single-tenant use only (logged loudly)
 * @param dir working directories of the hosts (their model links, scratch space and sockets);
 *     null for a fresh temporary directory
 * @param nativeDir PyTorch's unpacked native libraries, shared read-only by every host; null for
 *     DJL's engine cache ({@code ENGINE_CACHE_DIR}, {@code DJL_CACHE_DIR} or {@code ~/.djl.ai})
 * @param maxShare the fraction of the engine's worker threads one tenant's host may compute on (at
 *     least one thread), so that one publisher's models cannot occupy every core
 * @param overheadBytes what one running host costs besides its models' weights (JVM, PyTorch),
 *     charged to the memory budget while the host holds a model
 * @param memoryLimitBytes the host's address-space limit (RLIMIT_AS)
 * @param fileSizeLimitBytes the largest file a host may write (RLIMIT_FSIZE)
 * @param openFilesLimit open files per host (RLIMIT_NOFILE)
 * @param processLimit processes and threads (RLIMIT_NPROC, counted per user id)
 * @param heapBytes the host JVM's heap (-Xmx); tensors pass through it
 * @param startTimeout how long a host may take to start and connect
 * @param killGrace how far past its deadline a call may run before its host is killed
 * @param validationTimeout deadline of loading a model and running its example, and of
 *     calibrating its batch size
 * @param idleTimeout how long a host that holds no model lingers before it stops
 * @param staticCheck refuse archives whose code calls file, process or non-ATen operators before
 *     anything runs; only tests turn it off, to show that the sandbox holds without it
 */
public record HostConfig(
        Sandbox sandbox,
        Path dir,
        Path nativeDir,
        double maxShare,
        long overheadBytes,
        long memoryLimitBytes,
        long fileSizeLimitBytes,
        int openFilesLimit,
        int processLimit,
        long heapBytes,
        Duration startTimeout,
        Duration killGrace,
        Duration validationTimeout,
        Duration idleTimeout,
        boolean staticCheck) {

    /** How model code is isolated from the platform. */
    public enum Sandbox {
        BWRAP,
        OFF;

        public static Sandbox parse(String value) {
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("serving.sandbox must be bwrap or off, not " + value, e);
            }
        }
    }

    public HostConfig {
        Objects.requireNonNull(sandbox, "sandbox");
        Objects.requireNonNull(startTimeout, "startTimeout");
        Objects.requireNonNull(killGrace, "killGrace");
        Objects.requireNonNull(validationTimeout, "validationTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (!(maxShare > 0 && maxShare <= 1)) {
            throw new IllegalArgumentException("maxShare must be in (0, 1]");
        }
        if (overheadBytes < 0 || memoryLimitBytes <= 0 || fileSizeLimitBytes <= 0 || openFilesLimit < 64
                || processLimit < 64 || heapBytes < (32L << 20)) {
            throw new IllegalArgumentException("host limits out of range");
        }
        if (validationTimeout.toMillis() < 1 || startTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
    }

    public static HostConfig defaults() {
        return new HostConfig(Sandbox.BWRAP, null, null, 0.5, 320L << 20, 16L << 30, 256L << 20, 1024,
                4096, 512L << 20, Duration.ofSeconds(30), Duration.ofMillis(500), Duration.ofSeconds(30),
                Duration.ofSeconds(10), true);
    }

    public HostConfig withSandbox(Sandbox s) {
        return new HostConfig(s, dir, nativeDir, maxShare, overheadBytes, memoryLimitBytes,
                fileSizeLimitBytes, openFilesLimit, processLimit, heapBytes, startTimeout, killGrace,
                validationTimeout, idleTimeout, staticCheck);
    }

    public HostConfig withDirs(Path hostsDir, Path natives) {
        return new HostConfig(sandbox, hostsDir, natives, maxShare, overheadBytes, memoryLimitBytes,
                fileSizeLimitBytes, openFilesLimit, processLimit, heapBytes, startTimeout, killGrace,
                validationTimeout, idleTimeout, staticCheck);
    }

    public HostConfig withShare(double share) {
        return new HostConfig(sandbox, dir, nativeDir, share, overheadBytes, memoryLimitBytes,
                fileSizeLimitBytes, openFilesLimit, processLimit, heapBytes, startTimeout, killGrace,
                validationTimeout, idleTimeout, staticCheck);
    }

    public HostConfig withOverheadBytes(long bytes) {
        return new HostConfig(sandbox, dir, nativeDir, maxShare, bytes, memoryLimitBytes,
                fileSizeLimitBytes, openFilesLimit, processLimit, heapBytes, startTimeout, killGrace,
                validationTimeout, idleTimeout, staticCheck);
    }

    public HostConfig withTimeouts(Duration validation, Duration grace, Duration idle) {
        return new HostConfig(sandbox, dir, nativeDir, maxShare, overheadBytes, memoryLimitBytes,
                fileSizeLimitBytes, openFilesLimit, processLimit, heapBytes, startTimeout, grace,
                validation, idle, staticCheck);
    }

    /** The host process's limits: address space, largest file, open files, processes, JVM heap. */
    public HostConfig withLimits(long memoryLimit, long fileSizeLimit, int openFiles, int processes, long heap) {
        return new HostConfig(sandbox, dir, nativeDir, maxShare, overheadBytes, memoryLimit,
                fileSizeLimit, openFiles, processes, heap, startTimeout, killGrace,
                validationTimeout, idleTimeout, staticCheck);
    }

    public HostConfig withStartTimeout(Duration timeout) {
        return new HostConfig(sandbox, dir, nativeDir, maxShare, overheadBytes, memoryLimitBytes,
                fileSizeLimitBytes, openFilesLimit, processLimit, heapBytes, timeout, killGrace,
                validationTimeout, idleTimeout, staticCheck);
    }

    /** Only for tests that show the sandbox holds for code the static check would have refused. */
    public HostConfig withStaticCheck(boolean on) {
        return new HostConfig(sandbox, dir, nativeDir, maxShare, overheadBytes, memoryLimitBytes,
                fileSizeLimitBytes, openFilesLimit, processLimit, heapBytes, startTimeout, killGrace,
                validationTimeout, idleTimeout, on);
    }

    public static HostConfig fromJson(JsonObject json) {
        HostConfig d = defaults();
        return new HostConfig(
                Sandbox.parse(json.getString("sandbox", d.sandbox.name())),
                json.getString("dir") == null ? null : Path.of(json.getString("dir")),
                json.getString("nativeDir") == null ? null : Path.of(json.getString("nativeDir")),
                json.getDouble("maxShare", d.maxShare),
                json.getLong("overheadBytes", d.overheadBytes),
                json.getLong("memoryLimitBytes", d.memoryLimitBytes),
                json.getLong("fileSizeLimitBytes", d.fileSizeLimitBytes),
                json.getInteger("openFilesLimit", d.openFilesLimit),
                json.getInteger("processLimit", d.processLimit),
                json.getLong("heapBytes", d.heapBytes),
                Duration.ofMillis(json.getLong("startTimeoutMs", d.startTimeout.toMillis())),
                Duration.ofMillis(json.getLong("killGraceMs", d.killGrace.toMillis())),
                Duration.ofMillis(json.getLong("validationTimeoutMs", d.validationTimeout.toMillis())),
                Duration.ofMillis(json.getLong("idleTimeoutMs", d.idleTimeout.toMillis())),
                json.getBoolean("staticCheck", d.staticCheck));
    }

    public JsonObject toJson() {
        JsonObject json = new JsonObject()
                .put("sandbox", sandbox.name().toLowerCase(Locale.ROOT))
                .put("maxShare", maxShare)
                .put("overheadBytes", overheadBytes)
                .put("memoryLimitBytes", memoryLimitBytes)
                .put("fileSizeLimitBytes", fileSizeLimitBytes)
                .put("openFilesLimit", openFilesLimit)
                .put("processLimit", processLimit)
                .put("heapBytes", heapBytes)
                .put("startTimeoutMs", startTimeout.toMillis())
                .put("killGraceMs", killGrace.toMillis())
                .put("validationTimeoutMs", validationTimeout.toMillis())
                .put("idleTimeoutMs", idleTimeout.toMillis())
                .put("staticCheck", staticCheck);
        if (dir != null) {
            json.put("dir", dir.toString());
        }
        if (nativeDir != null) {
            json.put("nativeDir", nativeDir.toString());
        }
        return json;
    }
}
