package com.modelmarket.marketplace.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import com.modelmarket.marketplace.config.ClusterSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.FileNotFoundException;

/**
 * Builds this process's Vert.x: plain without a cluster (the default), else clustered on Hazelcast
 * with discovery by TCP-IP member list only (multicast and auto-detection off), bound to the one
 * configured interface, and Hazelcast's phone-home off. A Hazelcast file of one's own
 * ({@code cluster.hazelcast-config}, e.g. for Kubernetes discovery) replaces the generated network
 * section; phone-home is switched off in it all the same.
 */
public final class Clustering {

    private Clustering() {
    }

    public static Future<Vertx> vertx(VertxOptions options, ClusterSettings settings) {
        if (!settings.enabled()) {
            return Future.succeededFuture(Vertx.vertx(options));
        }
        options.setEventBusOptions(new EventBusOptions().setHost(settings.eventBusHost()).setPort(settings.eventBusPort()));
        return Vertx.builder().with(options).withClusterManager(new HazelcastClusterManager(hazelcast(settings))).buildClustered();
    }

    static Config hazelcast(ClusterSettings settings) {
        Config config;
        if (settings.hazelcastConfig().isPresent()) {
            try {
                config = Config.loadFromFile(settings.hazelcastConfig().get().toFile());
            } catch (FileNotFoundException e) {
                throw new IllegalArgumentException("cluster.hazelcast-config: " + e.getMessage(), e);
            }
        } else {
            config = new Config().setClusterName("modelmarket");
            // reuse-address: a node restarted at once (a rolling restart) binds its fixed port although the
            // old process's connections on it are still in TIME_WAIT
            NetworkConfig network = config.getNetworkConfig().setPort(settings.port()).setPortAutoIncrement(false)
                    .setReuseAddress(true);
            network.getInterfaces().setEnabled(true).addInterface(settings.bindInterface());
            JoinConfig join = network.getJoin();
            join.getMulticastConfig().setEnabled(false);
            join.getAutoDetectionConfig().setEnabled(false);
            join.getTcpIpConfig().setEnabled(true).setMembers(settings.members());
            config.setProperty("hazelcast.socket.bind.any", "false");
            // the master waits this long for more join requests before it admits a member (Hazelcast's
            // default 5 s): a handful of nodes on a member list needs no batching, and a restarted node
            // is back in a second
            config.setProperty("hazelcast.wait.seconds.before.join", "1");
        }
        // what Vert.x's own default-cluster.xml sets for its maps
        config.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
                .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "slf4j");
        // a member that stops answering is removed in seconds, not Hazelcast's default minute
        config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        config.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
        // a member removed for missed heartbeats (a starved CPU) splits the cluster; Hazelcast merges
        // the halves after 300 s by default, while a restarted node that joined the other half stays
        // out of this one's placement: heal within seconds instead
        config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
        config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
        // Vert.x leaves the cluster in its own close (SIGTERM in Main); Hazelcast's hook would go first
        config.setProperty("hazelcast.shutdownhook.enabled", "false");
        return config;
    }
}
