package com.modelmarket.marketplace.support;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.marketplace.config.ConfigLoader;
import com.modelmarket.marketplace.db.DbTarget;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts the real platform for a test: random port, temporary data directory, fresh database. */
public final class TestPlatform {

    private TestPlatform() {
    }

    /** Overrides every test wants: a random port and cheap password hashing. */
    public static Map<String, String> baseOverrides(Path dataDir) {
        Map<String, String> o = new HashMap<>();
        o.put("http.port", "0");
        o.put("http.host", "127.0.0.1");
        o.put("management.port", "0");
        o.put("http.instances", "1");
        o.put("data.dir", dataDir.toString());
        o.put("password.argon2-memory-kib", "1024");
        o.put("password.argon2-iterations", "1");
        return o;
    }

    public static Platform start(Vertx vertx, Map<String, String> overrides) {
        AppConfig config = ConfigLoader.load(Map.of(), overrides);
        try {
            return Platform.start(vertx, config).await(3, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException("platform did not start", e);
        }
    }

    /** A platform on a fresh database of the shared test server. */
    public static Platform startOnFreshDatabase(Vertx vertx) {
        return startOnFreshDatabase(vertx, Map.of());
    }

    public static Platform startOnFreshDatabase(Vertx vertx, Map<String, String> extra) {
        try {
            Path dataDir = Files.createTempDirectory("mm-test-data");
            DbTarget db = TestDatabases.freshDatabase();
            Map<String, String> overrides = baseOverrides(dataDir);
            overrides.put("db.url", TestDatabases.url(db));
            overrides.putAll(extra);
            return start(vertx, overrides);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void stop(Platform platform) {
        if (platform != null) {
            try {
                platform.stop().await(1, TimeUnit.MINUTES);
            } catch (Exception e) {
                throw new IllegalStateException("platform did not stop", e);
            }
        }
    }
}
