package com.modelmarket.marketplace.cluster;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many API nodes (roles api and all) are alive in the cluster, for the rate limiter's share:
 * each publishes its id every second and counts the ids heard within the last three seconds,
 * itself included.
 */
final class ApiPeers {

    static final String ADDRESS = "mm.api.presence";
    private static final long EVERY_MILLIS = 1_000;
    private static final long EXPIRY_NANOS = 3_000_000_000L;

    private final Vertx vertx;
    private final String nodeId;
    private final Map<String, Long> heard = new ConcurrentHashMap<>();
    private MessageConsumer<JsonObject> consumer;
    private long timer = -1;

    ApiPeers(Vertx vertx, String nodeId) {
        this.vertx = vertx;
        this.nodeId = nodeId;
    }

    Future<Void> start() {
        consumer = vertx.eventBus().consumer(ADDRESS, msg -> heard.put(msg.body().getString("node"), System.nanoTime()));
        timer = vertx.setPeriodic(1, EVERY_MILLIS, id -> vertx.eventBus().publish(ADDRESS, new JsonObject().put("node", nodeId)));
        return consumer.completion();
    }

    int count() {
        long now = System.nanoTime();
        heard.values().removeIf(at -> now - at > EXPIRY_NANOS);
        heard.remove(nodeId);
        return 1 + heard.size();
    }

    Future<Void> stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        return consumer == null ? Future.succeededFuture() : consumer.unregister();
    }
}
