package com.modelmarket.marketplace.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {

    @Test
    @DisplayName("by default a node is role all with no cluster, its models in data.dir/models")
    void defaults() {
        AppConfig config = ConfigLoader.load(Map.of(), Map.of());
        assertEquals(NodeRole.ALL, config.cluster().role());
        assertFalse(config.cluster().enabled());
        assertFalse(config.cluster().forwardsInference());
        assertEquals(config.dataDir().resolve("models"), config.modelStoreDir());
    }

    @Test
    @DisplayName("MM_* variables set the role, members and shared artifact directory")
    void fromEnvironment() {
        AppConfig config = ConfigLoader.load(Map.of("MM_NODE_ROLE", "api", "MM_CLUSTER_ENABLED", "true",
                "MM_CLUSTER_MEMBERS", "10.0.0.1:5701, 10.0.0.2", "MM_CLUSTER_ARTIFACT_DIR", "/mnt/models"), Map.of());
        assertEquals(NodeRole.API, config.cluster().role());
        assertTrue(config.cluster().forwardsInference());
        assertEquals(List.of("10.0.0.1:5701", "10.0.0.2"), config.cluster().members());
        assertEquals(java.nio.file.Path.of("/mnt/models"), config.modelStoreDir());
    }

    @Test
    @DisplayName("api and serving need the cluster on; an unknown role is refused by name")
    void refusals() {
        var noCluster = assertThrows(IllegalArgumentException.class,
                () -> ConfigLoader.load(Map.of("MM_NODE_ROLE", "serving"), Map.of()));
        assertTrue(noCluster.getMessage().contains("MM_CLUSTER_ENABLED"), noCluster.getMessage());
        var unknown = assertThrows(IllegalArgumentException.class,
                () -> ConfigLoader.load(Map.of("MM_NODE_ROLE", "gateway"), Map.of()));
        assertTrue(unknown.getMessage().contains("MM_NODE_ROLE"), unknown.getMessage());
    }
}
