package com.modelmarket.marketplace.cluster;

import com.modelmarket.marketplace.apikeys.ApiKeyService;
import com.modelmarket.marketplace.catalog.CatalogChanges;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * Cache invalidation between nodes: a key revoked here, and any catalog, plan, subscription or
 * tenant change made here ({@link CatalogChanges}), is published on the event bus; every other node
 * drops the revoked key from its cache and moves its catalog generation, which drops its resolved
 * inference targets. Delivery takes milliseconds; the caches' own lifetimes (0.5 s keys, 1 s targets)
 * still bound staleness if a message is lost.
 */
final class ClusterInvalidations {

    static final String ADDRESS = "mm.invalidate";

    private final Vertx vertx;
    private final String nodeId;
    private MessageConsumer<JsonObject> consumer;

    ClusterInvalidations(Vertx vertx, String nodeId) {
        this.vertx = vertx;
        this.nodeId = nodeId;
    }

    Future<Void> start(ApiKeyService apiKeys, CatalogChanges changes) {
        apiKeys.onRevoked(keyId -> publish("apikey", keyId.toString()));
        changes.onChange(() -> publish("catalog", ""));
        consumer = vertx.eventBus().consumer(ADDRESS, msg -> {
            JsonObject m = msg.body();
            if (nodeId.equals(m.getString("origin"))) {
                return;
            }
            switch (m.getString("kind", "")) {
                case "apikey" -> apiKeys.forget(UUID.fromString(m.getString("id")));
                case "catalog" -> changes.changedElsewhere();
                default -> {
                }
            }
        });
        return consumer.completion();
    }

    private void publish(String kind, String id) {
        vertx.eventBus().publish(ADDRESS, new JsonObject().put("origin", nodeId).put("kind", kind).put("id", id));
    }

    Future<Void> stop() {
        return consumer == null ? Future.succeededFuture() : consumer.unregister();
    }
}
