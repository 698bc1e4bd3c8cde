package com.modelmarket.marketplace.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.ServingConfig;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @Test
    @DisplayName("defaults need no configuration: port 8080, ./data, embedded database")
    void defaults() {
        AppConfig c = ConfigLoader.load(Map.of(), Map.of());
        assertEquals(8080, c.httpPort());
        assertEquals(Path.of("./data").toAbsolutePath().normalize(), c.dataDir());
        assertEquals(Optional.empty(), c.dbUrl());
        assertTrue(c.accessTokenTtl().toSeconds() <= 900);
    }

    @Test
    @DisplayName("the MM_CONFIG file overrides defaults and MM_* variables override the file")
    void layering(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("mm.properties");
        Files.writeString(file, "http.port=9000\ndata.dir=/srv/mm\n");
        AppConfig c = ConfigLoader.load(Map.of("MM_CONFIG", file.toString(), "MM_HTTP_PORT", "9100",
                "MM_DB_URL", "postgresql://u:p@db.internal:6543/mm"), Map.of());
        assertEquals(9100, c.httpPort());
        assertEquals(Path.of("/srv/mm"), c.dataDir());
        assertEquals(Optional.of("postgresql://u:p@db.internal:6543/mm"), c.dbUrl());
        assertEquals("MM_HTTP_PORT", ConfigLoader.envName("http.port"));
        assertEquals("MM_DB_POOL_SIZE", ConfigLoader.envName("db.pool-size"));
    }

    @Test
    @DisplayName("the bundled serving settings are the serving engine's own defaults")
    void servingDefaults() {
        AppConfig c = ConfigLoader.load(Map.of(), Map.of());
        assertEquals(ServingConfig.defaults().withHosts(c.serving().hosts()), c.serving());
        assertEquals(PoolConfig.defaults(), c.servingPool());
    }

    @Test
    @DisplayName("serving settings are overridden by MM_* variables")
    void servingFromEnvironment() {
        AppConfig c = ConfigLoader.load(Map.of("MM_SERVING_WORKER_THREADS", "3", "MM_SERVING_DEVICE", "gpu1",
                "MM_SERVING_INTRA_OP_THREADS", "2", "MM_SERVING_SPARE_THREADS", "0",
                "MM_SERVING_STUCK_GRACE_MILLIS", "750"), Map.of());
        assertEquals(3, c.serving().workerThreads());
        assertEquals("gpu1", c.serving().device());
        assertEquals(2, c.serving().intraOpThreads());
        assertEquals(0, c.serving().spareThreads());
        assertEquals(Duration.ofMillis(750), c.serving().stuckGrace());
    }

    @Test
    @DisplayName("serving settings are read from the MM_CONFIG file, and unset spare threads follow the workers")
    void servingFromFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("mm.properties");
        Files.writeString(file, String.join("\n", "serving.worker-threads=5", "serving.inter-op-threads=2",
                "serving.graph-optimizer=true", "serving.shutdown-timeout-millis=4000",
                "serving.idle-check-interval-millis=250", "serving.memory-budget-bytes=1048576",
                "serving.worker-idle-timeout-millis=60000", "serving.sandbox=off", ""));
        ServingConfig s = ConfigLoader.load(Map.of("MM_CONFIG", file.toString()), Map.of()).serving();
        assertEquals(5, s.workerThreads());
        assertEquals(5, s.spareThreads());
        assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors() / 5), s.intraOpThreads());
        assertEquals(2, s.interOpThreads());
        assertTrue(s.graphOptimizer());
        assertEquals(Duration.ofSeconds(4), s.shutdownTimeout());
        assertEquals(Duration.ofMillis(250), s.idleCheckInterval());
        assertEquals(1L << 20, s.memoryBudgetBytes());
        assertEquals(com.modelmarket.serving.HostConfig.Sandbox.OFF, s.hosts().sandbox());
        assertEquals(Duration.ofMinutes(1),
                ConfigLoader.load(Map.of("MM_CONFIG", file.toString()), Map.of()).servingPool().idleTimeout());
        var e = assertThrows(IllegalArgumentException.class,
                () -> ConfigLoader.load(Map.of("MM_SERVING_WORKER_THREADS", "many"), Map.of()));
        assertTrue(e.getMessage().contains("MM_SERVING_WORKER_THREADS"), e.getMessage());
    }

    @Test
    @DisplayName("bad values are refused with the key's name")
    void badValues() {
        var e = assertThrows(IllegalArgumentException.class, () -> ConfigLoader.load(Map.of("MM_HTTP_PORT", "eighty"), Map.of()));
        assertTrue(e.getMessage().contains("MM_HTTP_PORT"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConfigLoader.load(Map.of("MM_JWT_ACCESS_TTL_SECONDS", "3600"), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> ConfigLoader.load(Map.of("MM_CONFIG", "/no/such/file"), Map.of()));
    }

    @Test
    @DisplayName("database URLs are parsed, with percent-encoded credentials; other schemes are refused")
    void dbUrls() {
        DbTarget t = DbTarget.parse("postgresql://mm%40app:p%3Ass@db.example:6543/market");
        assertEquals(new DbTarget("db.example", 6543, "market", "mm@app", "p:ss"), t);
        assertEquals("jdbc:postgresql://db.example:6543/market", t.jdbcUrl());
        assertEquals(5432, DbTarget.parse("postgres://u@h/d").port());
        assertThrows(IllegalArgumentException.class, () -> DbTarget.parse("mysql://u@h/d"));
        assertThrows(IllegalArgumentException.class, () -> DbTarget.parse("postgresql://u@h/"));
    }
}
