package com.modelmarket.marketplace.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The cluster's settings ({@code node.role} and {@code cluster.*} in modelmarket.properties).
 *
 * @param role what this process does
 * @param enabled whether this process joins a Vert.x cluster (Hazelcast); required for api and serving
 * @param members Hazelcast TCP-IP join list ({@code host} or {@code host:port}); the only discovery
 *     unless {@code hazelcastConfig} names a file of one's own (e.g. Kubernetes discovery)
 * @param bindInterface the one interface Hazelcast binds to and accepts (interfaces are restricted to it)
 * @param port Hazelcast's member port (auto-increment off)
 * @param eventBusHost address the clustered event bus listens on and tells other nodes
 * @param eventBusPort its port (0: a free one)
 * @param hazelcastConfig an optional Hazelcast XML or YAML file that replaces the generated join
 *     (phone-home is switched off in it all the same)
 * @param artifactDir a directory every node shares for the content-addressed model store; empty:
 *     each node keeps its own and a serving node streams a missing artifact from the API node
 * @param placementInterval how often a serving node advertises what it holds
 * @param placementExpiry a serving node whose last advertisement is older is dropped from placement
 * @param requestGrace how much longer than a request's deadline an API node waits for a serving node's answer
 */
public record ClusterSettings(NodeRole role, boolean enabled, List<String> members, String bindInterface, int port,
                              String eventBusHost, int eventBusPort, Optional<Path> hazelcastConfig,
                              Optional<Path> artifactDir, Duration placementInterval, Duration placementExpiry,
                              Duration requestGrace) {

    public ClusterSettings {
        members = List.copyOf(members);
        if (role != NodeRole.ALL && !enabled) {
            throw new IllegalArgumentException("node.role=" + role.name().toLowerCase(java.util.Locale.ROOT)
                    + " needs cluster.enabled=true (MM_CLUSTER_ENABLED)");
        }
        if (enabled && members.isEmpty() && hazelcastConfig.isEmpty()) {
            throw new IllegalArgumentException("cluster.members (MM_CLUSTER_MEMBERS) must list at least one member");
        }
        if (port < 1 || port > 65535 || eventBusPort < 0 || eventBusPort > 65535) {
            throw new IllegalArgumentException("cluster.port must be 1..65535 and cluster.eventbus-port 0..65535");
        }
        if (placementInterval.toMillis() < 10 || placementExpiry.compareTo(placementInterval.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("cluster.placement-interval-millis must be >= 10 and "
                    + "cluster.placement-expiry-millis at least twice it");
        }
    }

    /** Whether the inference path crosses the event bus (an API node). */
    public boolean forwardsInference() {
        return role == NodeRole.API;
    }
}
