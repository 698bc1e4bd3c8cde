package com.modelmarket.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Configuration written before calibration and stuck workers existed still reads the same. */
class ConfigJsonTest {

    @Test
    @DisplayName("PoolConfig without calibrationBudgetMs reads with the default budget; the new key round-trips")
    void poolConfigCompatible() {
        JsonObject old = PoolConfig.defaults().toJson();
        old.remove("calibrationBudgetMs");
        PoolConfig read = PoolConfig.fromJson(old);
        assertEquals(PoolConfig.DEFAULT_CALIBRATION_BUDGET, read.calibrationBudget());
        assertEquals(PoolConfig.defaults(), read);

        PoolConfig off = PoolConfig.defaults().withBatching(64, Duration.ofMillis(3)).withCalibration(Duration.ZERO);
        assertEquals(off, PoolConfig.fromJson(off.toJson()));
        assertEquals(0L, off.toJson().getLong("calibrationBudgetMs"));
    }

    @Test
    @DisplayName("ServingConfig without spareThreads and stuckGraceMs reads with their defaults; both round-trip")
    void servingConfigCompatible() {
        JsonObject old = new JsonObject().put("workerThreads", 3);
        ServingConfig read = ServingConfig.fromJson(old);
        assertEquals(3, read.spareThreads(), "as many spare threads as worker threads, at least 2");
        assertEquals(ServingConfig.DEFAULT_STUCK_GRACE, read.stuckGrace());

        ServingConfig custom = ServingConfig.defaults().withStuckWorkers(5, Duration.ofMillis(750));
        assertEquals(custom, ServingConfig.fromJson(custom.toJson()));
    }
}
