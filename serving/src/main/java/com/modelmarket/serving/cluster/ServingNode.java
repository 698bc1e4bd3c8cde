package com.modelmarket.serving.cluster;

import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelStatus;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.store.ModelStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A serving node's side of the cluster: consumes the calls API nodes send to this node's address
 * and runs them on the local engine (its batching, its sandboxed hosts), and advertises what it
 * holds every interval and after each load or unload. Stopping first says it is leaving and stops
 * consuming, so new calls go elsewhere while the engine drains what it has.
 */
public final class ServingNode {

    private static final Logger LOG = LoggerFactory.getLogger(ServingNode.class);

    /** Operations ({@link ServingWire#OP}). */
    static final String INFER = "infer";
    static final String LOAD = "load";
    static final String UNLOAD = "unload";

    private final Vertx vertx;
    private final ServingEngine engine;
    private final ModelStore store;
    private final String nodeId;
    private final String clusterNodeId;
    private final String device;
    private final long budgetBytes;
    private final long hostOverheadBytes;
    private final Duration interval;
    private final AtomicLong sequence = new AtomicLong();
    private final List<MessageConsumer<?>> consumers = new ArrayList<>();
    private long timer = -1;
    private volatile boolean leaving;

    public ServingNode(Vertx vertx, ServingEngine engine, ModelStore store, String nodeId, String clusterNodeId, String device,
                       long budgetBytes, long hostOverheadBytes, Duration interval) {
        this.vertx = vertx;
        this.engine = engine;
        this.store = store;
        this.nodeId = nodeId;
        this.clusterNodeId = clusterNodeId;
        this.device = device;
        this.budgetBytes = budgetBytes;
        this.hostOverheadBytes = hostOverheadBytes;
        this.interval = interval;
    }

    public String nodeId() {
        return nodeId;
    }

    public Future<Void> start() {
        ServingWire.register(vertx.eventBus());
        MessageConsumer<Object> calls = vertx.eventBus().consumer(ServingWire.servingAddress(nodeId), this::handle);
        consumers.add(calls);
        MessageConsumer<JsonObject> artifacts = Artifacts.serve(vertx, store, nodeId);
        consumers.add(artifacts);
        timer = vertx.setPeriodic(interval.toMillis(), id -> advertise());
        return Future.join(calls.completion(), artifacts.completion()).<Void>mapEmpty()
                .onSuccess(v -> {
                    advertise();
                    LOG.info("Serving node {} consuming on the cluster (device {})", nodeId, device);
                });
    }

    /** Says it is leaving and stops taking calls; the engine is closed by its owner afterwards. */
    public Future<Void> stop() {
        leaving = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        advertise();
        return Future.join(consumers.stream().map(MessageConsumer::unregister).toList()).mapEmpty();
    }

    private void handle(Message<Object> msg) {
        String op = msg.headers().get(ServingWire.OP);
        if (op == null) {
            msg.fail(ServingFailures.OTHER, "no operation");
            return;
        }
        switch (op) {
            case INFER -> infer(msg);
            case LOAD -> load(msg);
            case UNLOAD -> unload(msg);
            default -> msg.fail(ServingFailures.OTHER, "unknown operation " + op);
        }
    }

    private void infer(Message<Object> msg) {
        if (!(msg.body() instanceof ServingWire.InferCall call)) {
            msg.fail(ServingFailures.OTHER, "not an inference call");
            return;
        }
        engine.infer(call.key(), call.request())
                .onSuccess(result -> msg.reply(new ServingWire.InferAnswer(result, nodeId)))
                .onFailure(err -> ServingFailures.reply(msg, err));
    }

    private void load(Message<Object> msg) {
        JsonObject body = (JsonObject) msg.body();
        ModelKey key = keyOf(body.getJsonObject("key"));
        Artifacts.obtain(vertx, store, body.getString("sha256"), body.getLong("size"), body.getString("source"))
                .compose(artifact -> engine.load(key, artifact, ModelManifest.fromJson(body.getJsonObject("manifest")),
                        PoolConfig.fromJson(body.getJsonObject("pool"))))
                .onComplete(ar -> advertise())
                .onSuccess(report -> msg.reply(reportJson(report)))
                .onFailure(err -> ServingFailures.reply(msg, err));
    }

    private void unload(Message<Object> msg) {
        ModelKey key = keyOf(((JsonObject) msg.body()).getJsonObject("key"));
        engine.unload(key).onComplete(ar -> advertise())
                .onSuccess(v -> msg.reply(new JsonObject()))
                .onFailure(err -> ServingFailures.reply(msg, err));
    }

    /** Publishes this node's advert now. */
    public void advertise() {
        vertx.eventBus().publish(ServingWire.PLACEMENT, advert().toJson());
    }

    NodeAdvert advert() {
        List<NodeAdvert.Held> held = new ArrayList<>();
        long used = 0;
        int depth = 0;
        for (ModelStatus s : engine.models()) {
            held.add(new NodeAdvert.Held(s.key(), s.state(), s.queuedItems(), s.busyWorkers()));
            if (s.state() != ModelStatus.State.UNLOADED && s.lastLoad() != null) {
                used += s.lastLoad().memoryBytes();
            }
            depth += s.queuedItems() + s.busyWorkers();
        }
        used += (long) engine.hosts().size() * hostOverheadBytes;
        return new NodeAdvert(nodeId, clusterNodeId, sequence.incrementAndGet(), device, Math.max(0, budgetBytes - used),
                depth, leaving ? List.of() : held, leaving);
    }

    static ModelKey keyOf(JsonObject json) {
        return new ModelKey(json.getString("owner"), json.getString("model"), json.getString("version"));
    }

    static JsonObject keyJson(ModelKey key) {
        return new JsonObject().put("owner", key.owner()).put("model", key.model()).put("version", key.version());
    }

    static JsonObject reportJson(LoadReport r) {
        return new JsonObject().put("key", keyJson(r.key())).put("sha256", r.sha256()).put("size", r.sizeBytes())
                .put("loadMillis", r.loadTime().toMillis()).put("memory", r.memoryBytes()).put("device", r.device());
    }

    static LoadReport reportOf(JsonObject j) {
        return new LoadReport(keyOf(j.getJsonObject("key")), j.getString("sha256"), j.getLong("size"),
                Duration.ofMillis(j.getLong("loadMillis")), j.getLong("memory"), j.getString("device"));
    }
}
