package com.modelmarket.marketplace.cluster;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many API nodes (roles api and all) are alive in the cluster, for the rate limiter's share:
 * each publishes its id every second and counts the ids heard within the last three seconds,
 * itself included. A starting node has heard every peer before it admits a call ({@link #start}
 * completes only after a full interval), and the peers count it from its first message, sent at
 * once; a node that stops says so and is forgotten at once, one that dies after three seconds.
 */
final class ApiPeers {

    static final String ADDRESS = "mm.api.presence";
    private static final long EVERY_MILLIS = 1_000;
    /** Longer than the interval, with room for a new subscription to reach the other nodes. */
    private static final long ROLL_CALL_MILLIS = EVERY_MILLIS + 500;
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

    /** Completes once every live peer has been heard (one interval and a margin after listening). */
    Future<Void> start() {
        consumer = vertx.eventBus().consumer(ADDRESS, msg -> {
            String node = msg.body().getString("node");
            if (msg.body().getBoolean("leaving", false)) {
                heard.remove(node);
            } else {
                heard.put(node, System.nanoTime());
            }
        });
        return consumer.completion().compose(v -> {
            timer = vertx.setPeriodic(1, EVERY_MILLIS, id -> publish(false));
            Promise<Void> heardAll = Promise.promise();
            vertx.setTimer(ROLL_CALL_MILLIS, id -> heardAll.complete());
            return heardAll.future();
        });
    }

    private void publish(boolean leaving) {
        vertx.eventBus().publish(ADDRESS, new JsonObject().put("node", nodeId).put("leaving", leaving));
    }

    int count() {
        long now = System.nanoTime();
        heard.values().removeIf(at -> now - at > EXPIRY_NANOS);
        heard.remove(nodeId);
        return 1 + heard.size();
    }

    /** Says this node is gone (its HTTP server has drained: it admits nothing more), so the others count without it at once. */
    Future<Void> stop() {
        boolean started = timer >= 0;
        if (started) {
            vertx.cancelTimer(timer);
        }
        // unregistered first, so that this node does not receive its own goodbye
        Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
        return unregistered.onSuccess(v -> {
            if (started) {
                publish(true);
            }
        });
    }
}
