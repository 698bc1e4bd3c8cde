package com.modelmarket.marketplace.config;

import com.modelmarket.billing.metering.UsageMeterOptions;
import com.modelmarket.marketplace.metering.UsageBuckets;

import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.ServingConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The platform's configuration, read once at start-up by {@link ConfigLoader}. */
public record AppConfig(
        int httpPort,
        String httpHost,
        int managementPort,
        String managementHost,
        long maxJsonBodyBytes,
        int httpInstances,
        Duration httpIdleTimeout,
        Duration httpHeaderTimeout,
        Duration httpBodyTimeout,
        Duration uploadTimeout,
        int httpMaxConnectionsPerAddress,
        Path dataDir,
        Optional<String> dbUrl,
        int dbPoolSize,
        int dbMaxWaitQueue,
        int dbEmbeddedPort,
        String dbEmbeddedSharedBuffers,
        Optional<Path> jwtPrivateKeyFile,
        Optional<Path> jwtPublicKeyFile,
        String jwtIssuer,
        String jwtAudience,
        Duration accessTokenTtl,
        Duration refreshTokenTtl,
        Optional<String> apiKeySecret,
        Duration apiKeyCacheTtl,
        int argon2MemoryKib,
        int argon2Iterations,
        int argon2Parallelism,
        int loginMaxFailures,
        Duration loginWindow,
        int loginAccountBackoffAfter,
        Duration loginAccountBackoffMax,
        long maxUploadBytes,
        boolean demoEnabled,
        long inferenceMaxBodyBytes,
        int inferenceMaxItems,
        long inferenceMaxElements,
        PoolConfig servingPool,
        int platformFeeBasisPoints,
        Duration billingCloseGrace,
        long billingPeriodDaySeconds,
        int billingPeriodDays,
        boolean meteringEnabled,
        UsageMeterOptions meteringOptions,
        UsageBuckets usageBuckets,
        TrainingSettings training,
        ServingConfig serving,
        EvaluationSettings evaluation,
        ClusterSettings cluster) {

    public AppConfig {
        if (accessTokenTtl.compareTo(Duration.ofMinutes(15)) > 0) {
            throw new IllegalArgumentException("jwt.access-ttl-seconds must be at most 900");
        }
        if (httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("http.port must be between 0 and 65535");
        }
        if (managementPort < -1 || managementPort > 65535) {
            throw new IllegalArgumentException("management.port must be -1 (off) or between 0 and 65535");
        }
        if (billingPeriodDaySeconds > 0 && billingPeriodDaySeconds % usageBuckets.seconds() != 0) {
            throw new IllegalArgumentException("billing.period-day-seconds must be a multiple of metering.rollup-seconds ("
                    + usageBuckets.seconds() + "), so that usage rollups split periods exactly");
        }
        if (platformFeeBasisPoints < 0 || platformFeeBasisPoints > 10_000) {
            throw new IllegalArgumentException("billing.platform-fee-bp must be between 0 and 10000");
        }
        if (dbPoolSize < 1 || dbMaxWaitQueue < 0) {
            throw new IllegalArgumentException("db.pool-size must be >= 1 and db.max-wait-queue >= 0");
        }
    }

    /** Where model artifacts are stored: the cluster's shared directory, or this node's {@code data.dir/models}. */
    public Path modelStoreDir() {
        return cluster.artifactDir().orElse(dataDir.resolve("models"));
    }

    /** The number of HTTP verticle instances to deploy. */
    public int effectiveHttpInstances() {
        return httpInstances > 0 ? httpInstances : Runtime.getRuntime().availableProcessors();
    }
}
