package com.modelmarket.marketplace.config;

import com.modelmarket.serving.HostConfig;
import com.modelmarket.billing.metering.UsageMeterOptions;
import com.modelmarket.marketplace.metering.UsageBuckets;

import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.ServingConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Reads the configuration: the bundled defaults ({@code modelmarket.properties}), then the file
 * named by {@code MM_CONFIG}, then {@code MM_*} environment variables, then explicit overrides
 * (used by tests). The one place that knows configuration keys.
 */
public final class ConfigLoader {

    static final String DEFAULTS = "/modelmarket.properties";

    private ConfigLoader() {
    }

    /** Loads the configuration from the process environment. */
    public static AppConfig fromEnvironment() {
        return load(System.getenv(), Map.of());
    }

    /**
     * Loads the configuration.
     *
     * @param env       environment variables ({@code MM_*} are read)
     * @param overrides keys in file form ({@code http.port}) that win over everything else
     */
    public static AppConfig load(Map<String, String> env, Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>(readDefaults());
        String file = env.get("MM_CONFIG");
        if (file != null && !file.isBlank()) {
            values.putAll(readFile(Path.of(file)));
        }
        for (String key : Map.copyOf(values).keySet()) {
            String fromEnv = env.get(envName(key));
            if (fromEnv != null) {
                values.put(key, fromEnv);
            }
        }
        values.putAll(overrides);
        return build(new Values(values));
    }

    /** The environment variable that overrides a key: {@code http.port} → {@code MM_HTTP_PORT}. */
    public static String envName(String key) {
        return "MM_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** A PostgreSQL memory size: a number with kB, MB or GB ({@code shared_buffers} of the embedded server). */
    static String sharedBuffers(String value) {
        String v = value.trim();
        if (!v.matches("[1-9][0-9]{0,6}(kB|MB|GB)")) {
            throw new IllegalArgumentException("db.embedded-shared-buffers must be a size such as 128MB or 1GB, not '" + value + "'");
        }
        return v;
    }

    private static AppConfig build(Values v) {
        return new AppConfig(
                v.integer("http.port"),
                v.string("http.host"),
                v.integer("management.port"),
                v.string("management.host"),
                v.longValue("http.max-json-body-bytes"),
                v.integer("http.instances"),
                Duration.ofSeconds(v.longValue("http.idle-timeout-seconds")),
                Duration.ofSeconds(v.longValue("http.header-timeout-seconds")),
                Duration.ofSeconds(v.longValue("http.body-timeout-seconds")),
                Duration.ofSeconds(v.longValue("catalog.upload-timeout-seconds")),
                v.integer("http.max-connections-per-address"),
                Path.of(v.string("data.dir")).toAbsolutePath().normalize(),
                v.optional("db.url"),
                v.integer("db.pool-size"),
                v.integer("db.max-wait-queue"),
                v.integer("db.embedded-port"),
                sharedBuffers(v.string("db.embedded-shared-buffers")),
                v.optional("jwt.private-key-file").map(Path::of),
                v.optional("jwt.public-key-file").map(Path::of),
                v.string("jwt.issuer"),
                v.string("jwt.audience"),
                Duration.ofSeconds(v.longValue("jwt.access-ttl-seconds")),
                Duration.ofSeconds(v.longValue("jwt.refresh-ttl-seconds")),
                v.optional("apikey.secret"),
                Duration.ofMillis(v.longValue("apikey.cache-ttl-millis")),
                v.integer("password.argon2-memory-kib"),
                v.integer("password.argon2-iterations"),
                v.integer("password.argon2-parallelism"),
                v.integer("login.max-failures"),
                Duration.ofSeconds(v.longValue("login.window-seconds")),
                v.integer("login.account-backoff-after"),
                Duration.ofSeconds(v.longValue("login.account-backoff-max-seconds")),
                v.longValue("catalog.max-upload-bytes"),
                v.bool("demo.enabled"),
                v.longValue("inference.max-body-bytes"),
                v.integer("inference.max-items"),
                v.longValue("inference.max-elements"),
                PoolConfig.defaults()
                        .withWorkers(v.integer("serving.min-workers"), v.integer("serving.max-workers"))
                        .withIdleTimeout(Duration.ofMillis(v.longValue("serving.worker-idle-timeout-millis")))
                        .withBatching(v.integer("serving.max-batch-size"),
                                Duration.ofMillis(v.longValue("serving.max-batch-delay-millis")))
                        .withMaxQueue(v.integer("serving.max-queue"))
                        .withDefaultTimeout(Duration.ofMillis(v.longValue("serving.request-timeout-millis")))
                        .withCalibration(Duration.ofMillis(v.longValue("serving.calibration-budget-millis"))),
                v.integer("billing.platform-fee-bp"),
                Duration.ofSeconds(v.longValue("billing.close-grace-seconds")),
                v.longValue("billing.period-day-seconds"),
                v.integer("billing.period-days"),
                v.bool("metering.enabled"),
                UsageMeterOptions.defaults(Path.of(v.string("data.dir")).toAbsolutePath().normalize().resolve("usage-journal"))
                        .withGroupCommitInterval(Duration.ofMillis(v.longValue("metering.group-commit-millis")))
                        .withAckAfterFsync(v.bool("metering.ack-after-fsync"))
                        .withWindowRecords(v.integer("metering.window-records"))
                        .withBatchSize(v.integer("metering.batch-size"))
                        .withJournalBounds(v.longValue("metering.journal-max-bytes"),
                                Math.min(4L << 20, v.longValue("metering.journal-max-bytes"))),
                new UsageBuckets(v.integer("metering.rollup-seconds")),
                new TrainingSettings(v.integer("training.threads"), v.integer("training.max-queued"),
                        v.integer("training.max-open-per-tenant"), Duration.ofSeconds(v.longValue("training.max-job-seconds")),
                        Double.parseDouble(v.string("training.held-out-fraction")), v.string("training.cpu-priority"), v.integer("training.pytorch-threads")),
                serving(v),
                new EvaluationSettings(v.integer("evaluation.threads"), v.integer("evaluation.max-queued"),
                        v.integer("evaluation.max-open-per-tenant"), v.integer("evaluation.max-rows"),
                        v.integer("evaluation.in-flight"), v.integer("evaluation.rows-per-request"),
                        v.integer("evaluation.disagreements-shown"), Duration.ofSeconds(v.longValue("evaluation.max-job-seconds"))),
                cluster(v));
    }

    /** The node's role and its cluster ({@code node.role}, {@code cluster.*}). */
    private static ClusterSettings cluster(Values v) {
        return new ClusterSettings(
                NodeRole.parse(v.string("node.role")),
                v.bool("cluster.enabled"),
                v.optional("cluster.members").map(m -> java.util.Arrays.stream(m.split(","))
                        .map(String::trim).filter(x -> !x.isEmpty()).toList()).orElse(java.util.List.of()),
                v.string("cluster.interface"),
                v.integer("cluster.port"),
                v.string("cluster.eventbus-host"),
                v.integer("cluster.eventbus-port"),
                v.optional("cluster.hazelcast-config").map(Path::of),
                v.optional("cluster.artifact-dir").map(x -> Path.of(x).toAbsolutePath().normalize()),
                Duration.ofMillis(v.longValue("cluster.placement-interval-millis")),
                Duration.ofMillis(v.longValue("cluster.placement-expiry-millis")),
                Duration.ofMillis(v.longValue("cluster.request-grace-millis")));
    }

    /**
     * The engine's settings. {@code serving.worker-threads=0} means one per core; {@code
     * serving.intra-op-threads=0} means cores / worker threads (at least 1); an empty {@code
     * serving.spare-threads} means as many as worker threads, at least 2 (as {@link
     * ServingConfig#defaults()}).
     */
    private static ServingConfig serving(Values v) {
        int cores = Runtime.getRuntime().availableProcessors();
        int workers = v.integer("serving.worker-threads");
        workers = workers > 0 ? workers : cores;
        int intraOp = v.integer("serving.intra-op-threads");
        return new ServingConfig(
                v.longValue("serving.memory-budget-bytes"),
                v.string("serving.device"),
                workers,
                intraOp > 0 ? intraOp : Math.max(1, cores / workers),
                v.integer("serving.inter-op-threads"),
                v.bool("serving.graph-optimizer"),
                Duration.ofMillis(v.longValue("serving.shutdown-timeout-millis")),
                Duration.ofMillis(v.longValue("serving.idle-check-interval-millis")),
                v.optional("serving.spare-threads").isPresent() ? v.integer("serving.spare-threads") : Math.max(2, workers),
                Duration.ofMillis(v.longValue("serving.stuck-grace-millis")),
                hosts(v));
    }

    /** The sandbox and model hosts; the hosts' folder defaults to {@code data.dir/hosts}. */
    private static HostConfig hosts(Values v) {
        Path data = Path.of(v.string("data.dir")).toAbsolutePath().normalize();
        return new HostConfig(
                HostConfig.Sandbox.parse(v.string("serving.sandbox")),
                v.optional("serving.host.dir").map(Path::of).orElse(data.resolve("hosts")),
                v.optional("serving.host.native-dir").map(Path::of).orElse(null),
                Double.parseDouble(v.string("serving.host.max-share")),
                v.longValue("serving.host.overhead-bytes"),
                v.longValue("serving.host.memory-limit-bytes"),
                v.longValue("serving.host.file-size-limit-bytes"),
                v.integer("serving.host.open-files-limit"),
                v.integer("serving.host.process-limit"),
                v.longValue("serving.host.heap-bytes"),
                Duration.ofMillis(v.longValue("serving.host.start-timeout-millis")),
                Duration.ofMillis(v.longValue("serving.host.kill-grace-millis")),
                Duration.ofMillis(v.longValue("serving.host.validation-timeout-millis")),
                Duration.ofMillis(v.longValue("serving.host.idle-timeout-millis")),
                true);
    }

    private static Map<String, String> readDefaults() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULTS)) {
            if (in == null) {
                throw new IllegalStateException("bundled " + DEFAULTS + " is missing");
            }
            return toMap(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read bundled " + DEFAULTS, e);
        }
    }

    private static Map<String, String> readFile(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            return toMap(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("MM_CONFIG: cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, String> toMap(InputStream in) throws IOException {
        Properties props = new Properties();
        try (Reader reader = new java.io.InputStreamReader(in, StandardCharsets.UTF_8)) {
            props.load(reader);
        }
        Map<String, String> map = new HashMap<>();
        props.stringPropertyNames().forEach(k -> map.put(k, props.getProperty(k).trim()));
        return map;
    }

    /** Typed access with errors that name the key. */
    private record Values(Map<String, String> map) {
        String string(String key) {
            String value = map.get(key);
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException("configuration key " + key + " (" + envName(key) + ") is required");
            }
            return value.trim();
        }

        Optional<String> optional(String key) {
            String value = map.get(key);
            return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
        }

        int integer(String key) {
            long value = longValue(key);
            if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("configuration key " + key + " is out of range: " + value);
            }
            return (int) value;
        }

        boolean bool(String key) {
            String raw = string(key).toLowerCase(Locale.ROOT);
            if (!raw.equals("true") && !raw.equals("false")) {
                throw new IllegalArgumentException("configuration key " + key + " (" + envName(key)
                        + ") must be true or false, got '" + raw + "'");
            }
            return Boolean.parseBoolean(raw);
        }

        long longValue(String key) {
            String raw = string(key);
            try {
                return Long.parseLong(raw);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("configuration key " + key + " (" + envName(key)
                        + ") must be a whole number, got '" + raw + "'");
            }
        }
    }
}
