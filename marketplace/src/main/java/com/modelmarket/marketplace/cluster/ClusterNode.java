package com.modelmarket.marketplace.cluster;

import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.marketplace.config.ClusterSettings;
import com.modelmarket.marketplace.config.NodeRole;
import com.modelmarket.marketplace.training.JobRunner;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.cluster.Artifacts;
import com.modelmarket.serving.cluster.Placement;
import com.modelmarket.serving.cluster.RemoteServingEngine;
import com.modelmarket.serving.cluster.ServingNode;
import com.modelmarket.serving.cluster.ServingWire;
import com.modelmarket.marketplace.apikeys.ApiKeyService;
import com.modelmarket.marketplace.catalog.CatalogChanges;
import com.modelmarket.serving.store.ModelStore;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's place in the cluster, by {@code node.role}: the one thing {@code Platform} asks
 * about roles. Without a cluster ({@link #of} on a plain Vert.x) it does nothing: the engine is the
 * local one and the node is always "reachable". An {@code api} node gets a {@link
 * RemoteServingEngine} over a {@link Placement} and serves its store's artifacts to serving nodes; a
 * {@code serving} node runs a {@link ServingNode} in front of its local engine. Every clustered node
 * shares key and catalog invalidations ({@link ClusterInvalidations}).
 */
public final class ClusterNode {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    private final Vertx vertx;
    private final AppConfig config;
    private final ClusterSettings settings;
    private final String nodeId = UUID.randomUUID().toString();
    private final Optional<HazelcastClusterManager> manager;
    private final Placement placement;
    private final JobRunner jobRunner;
    private final List<MessageConsumer<?>> consumers = new ArrayList<>();
    private ServingNode servingNode;
    private ClusterInvalidations invalidations;
    private ApiPeers apiPeers;
    private UUID membershipListener;

    private ClusterNode(Vertx vertx, AppConfig config) {
        this.vertx = vertx;
        this.config = config;
        this.settings = config.cluster();
        ClusterManager cm = vertx instanceof VertxInternal vi ? vi.clusterManager() : null;
        this.manager = cm instanceof HazelcastClusterManager h ? Optional.of(h) : Optional.empty();
        if (settings.enabled() && cm == null) {
            throw new IllegalStateException("cluster.enabled=true but Vert.x is not clustered (start it with Clustering.vertx)");
        }
        this.placement = settings.forwardsInference() ? new Placement(vertx, settings.placementExpiry()) : null;
        this.jobRunner = cm == null ? JobRunner.alone() : new JobRunner(cm.getNodeId(), cm::getNodes);
    }

    /** Who runs this process's training and evaluation jobs: its cluster member id, and the members now. */
    public JobRunner jobRunner() {
        return jobRunner;
    }

    public static ClusterNode of(Vertx vertx, AppConfig config) {
        return new ClusterNode(vertx, config);
    }

    public NodeRole role() {
        return settings.role();
    }

    public boolean clustered() {
        return settings.enabled();
    }

    /**
     * This node's serving engine: the local DJL engine, or on an api node the cluster's for
     * inference, with a local engine for the training jobs this node accepts (each runs in a
     * sandboxed job host of its own on this machine, as on an all node; the api node loads no model).
     */
    public Future<ServingEngine> engine(MeterRegistry metrics) {
        if (!settings.forwardsInference()) {
            return ServingEngine.create(vertx, config.serving(), metrics);
        }
        ServingWire.register(vertx.eventBus());
        return ServingEngine.create(vertx, config.serving(), metrics).compose(jobs -> placement.start().map(v -> {
            manager.ifPresent(m -> membershipListener = m.getHazelcastInstance().getCluster()
                    .addMembershipListener(new MembershipListener() {
                        @Override
                        public void memberAdded(MembershipEvent event) {
                        }

                        @Override
                        public void memberRemoved(MembershipEvent event) {
                            String left = event.getMember().getUuid().toString();
                            vertx.runOnContext(x -> placement.memberLeft(left));
                        }
                    }));
            return (ServingEngine) new RemoteServingEngine(vertx, placement, ServingWire.artifactAddress(nodeId),
                    config.servingPool().defaultTimeout(), settings.requestGrace(), jobs);
        }));
    }

    /**
     * Joins the running services to the cluster: invalidations on every clustered node; the
     * artifact source on an api node; the serving consumer and adverts on a serving node.
     */
    public Future<Void> attach(ServingEngine engine, ModelStore store, ApiKeyService apiKeys, CatalogChanges changes) {
        if (!settings.enabled()) {
            return Future.succeededFuture();
        }
        invalidations = new ClusterInvalidations(vertx, nodeId);
        List<Future<?>> started = new ArrayList<>();
        started.add(invalidations.start(apiKeys, changes));
        if (settings.role() != NodeRole.SERVING) {
            apiPeers = new ApiPeers(vertx, nodeId);
            started.add(apiPeers.start());
        }
        if (settings.role() == NodeRole.API) {
            MessageConsumer<?> artifacts = Artifacts.serve(vertx, store, nodeId);
            consumers.add(artifacts);
            started.add(artifacts.completion());
        }
        if (settings.role() == NodeRole.SERVING) {
            servingNode = new ServingNode(vertx, engine, store, nodeId, manager.map(HazelcastClusterManager::getNodeId).orElse(""),
                    config.serving().device(), config.serving().memoryBudgetBytes(), config.serving().hosts().overheadBytes(),
                    settings.placementInterval(), settings.placementExpiry());
            started.add(servingNode.start());
        }
        return Future.all(started).<Void>mapEmpty()
                .onSuccess(v -> LOG.info("Node {} joined the cluster as {} (cluster node {})", nodeId,
                        settings.role().name().toLowerCase(java.util.Locale.ROOT), manager.map(HazelcastClusterManager::getNodeId).orElse("?")));
    }

    /**
     * Whether this node can do its part: no cluster, or the cluster manager active and, on an api
     * node, at least one serving node advertising within the expiry.
     */
    public boolean reachable() {
        if (!settings.enabled()) {
            return true;
        }
        if (manager.isPresent() && !manager.get().isActive()) {
            return false;
        }
        return placement == null || !placement.live().isEmpty();
    }

    /** API nodes alive in the cluster (1 without a cluster): the rate limiter admits 1/n of each limit here. */
    public int apiNodes() {
        ApiPeers peers = apiPeers;
        return peers == null ? 1 : peers.count();
    }

    /** What {@code /health/ready} says of the cluster. */
    public String describe() {
        if (!settings.enabled()) {
            return "off";
        }
        if (!reachable()) {
            return placement != null ? "no serving node reachable" : "cluster unreachable";
        }
        return placement != null ? placement.live().size() + " serving node(s)" : "up";
    }

    /**
     * A serving node leaves without losing a call (before its engine closes): it advertises that it
     * is leaving, answers what it accepted and waits, bounded, until its versions are in service on
     * another node ({@link ServingNode#stop}); nothing elsewhere.
     */
    public Future<Void> stopServing() {
        return servingNode == null ? Future.succeededFuture() : servingNode.stop();
    }

    public Future<Void> close() {
        List<Future<?>> stops = new ArrayList<>();
        consumers.forEach(c -> stops.add(c.unregister()));
        if (servingNode != null) {
            stops.add(servingNode.close());
        }
        if (invalidations != null) {
            stops.add(invalidations.stop());
        }
        if (apiPeers != null) {
            stops.add(apiPeers.stop());
        }
        if (placement != null) {
            stops.add(placement.stop());
        }
        if (membershipListener != null) {
            manager.ifPresent(m -> {
                try {
                    m.getHazelcastInstance().getCluster().removeMembershipListener(membershipListener);
                } catch (RuntimeException e) {
                    // Hazelcast already stopped
                }
            });
        }
        return Future.join(stops).mapEmpty();
    }
}
