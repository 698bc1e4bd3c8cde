package com.modelmarket.serving.cluster;

import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * What a serving node tells the cluster about itself, every {@code cluster.placement-interval-millis}
 * and after every load or unload: the versions it holds, its free memory budget, its queue depth and
 * its device. {@code leaving} says it is stopping and takes no new calls; it still lists what it
 * holds, so that API nodes can load elsewhere what only it holds.
 *
 * @param nodeId the serving node's own id (its event-bus address)
 * @param clusterNodeId the cluster manager's id of its process (membership events name it)
 * @param sequence grows with every advert of this node, so a late one never overwrites a newer one
 */
public record NodeAdvert(String nodeId, String clusterNodeId, long sequence, String device, long freeBudgetBytes,
                         int queueDepth, List<Held> models, boolean leaving) {

    public NodeAdvert {
        models = List.copyOf(models);
    }

    /** One registered version on the node and its state there. */
    public record Held(ModelKey key, ModelStatus.State state, int queuedItems, int busyWorkers) {
    }

    public boolean holds(ModelKey key) {
        return models.stream().anyMatch(m -> m.key().equals(key));
    }

    /** Whether the node holds the version in memory, serving. */
    public boolean holdsInService(ModelKey key) {
        return models.stream().anyMatch(m -> m.key().equals(key) && m.state() == ModelStatus.State.LOADED);
    }

    public JsonObject toJson() {
        JsonArray held = new JsonArray();
        for (Held m : models) {
            held.add(new JsonObject().put("owner", m.key().owner()).put("model", m.key().model())
                    .put("version", m.key().version()).put("state", m.state().name())
                    .put("queued", m.queuedItems()).put("busy", m.busyWorkers()));
        }
        return new JsonObject().put("node", nodeId).put("clusterNode", clusterNodeId).put("seq", sequence)
                .put("device", device).put("freeBudget", freeBudgetBytes).put("queueDepth", queueDepth)
                .put("models", held).put("leaving", leaving);
    }

    public static NodeAdvert fromJson(JsonObject json) {
        JsonArray held = json.getJsonArray("models", new JsonArray());
        List<Held> models = new java.util.ArrayList<>(held.size());
        for (int i = 0; i < held.size(); i++) {
            JsonObject m = held.getJsonObject(i);
            models.add(new Held(new ModelKey(m.getString("owner"), m.getString("model"), m.getString("version")),
                    ModelStatus.State.valueOf(m.getString("state")), m.getInteger("queued", 0), m.getInteger("busy", 0)));
        }
        return new NodeAdvert(json.getString("node"), json.getString("clusterNode", ""), json.getLong("seq", 0L),
                json.getString("device", "cpu"), json.getLong("freeBudget", 0L), json.getInteger("queueDepth", 0), models,
                json.getBoolean("leaving", false));
    }
}
