package com.modelmarket.serving.cluster;

import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelStatus;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.store.ModelStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A serving node's side of the cluster: consumes the calls API nodes send to this node's address
 * and runs them on the local engine (its batching, its sandboxed hosts), and advertises what it
 * holds every interval and after each load or unload.
 *
 * <p>A graceful stop ({@link #stop}) loses no call: the node first advertises that it is leaving,
 * with what it holds, so API nodes place no new call here and load elsewhere any version only this
 * node holds; it keeps advertising and keeps running whatever still arrives (calls that were already
 * on their way) until every call it accepted is answered, nothing has arrived for {@link #QUIET},
 * and another node holds each of its versions in service (or {@link #HANDOFF_BOUND} has passed, or
 * there is no other node); only then is it {@link Phase#DRAINED}: a call that still arrives is turned
 * away unrun ({@link ServingFailures#NOT_RUN}), which the API node retries on another node. The
 * engine is closed by its owner afterwards.
 */
public final class ServingNode {

    private static final Logger LOG = LoggerFactory.getLogger(ServingNode.class);

    /** Operations ({@link ServingWire#OP}). */
    static final String INFER = "infer";
    static final String LOAD = "load";
    static final String UNLOAD = "unload";

    /** Where the node is in its life; it only moves forward. */
    enum Phase {
        /** Placed on by API nodes. */
        SERVING,
        /** Advertised as leaving: no new calls are placed here; those still arriving are run. */
        LEAVING,
        /** Drained: every accepted call answered; anything arriving now is turned away unrun. */
        DRAINED
    }

    /** How long a stop waits for other nodes to hold, in service, the versions this one holds. */
    static final Duration HANDOFF_BOUND = Duration.ofSeconds(15);
    /** The bound on the whole drain, whatever is still running (the engine's close answers the rest). */
    static final Duration DRAIN_BOUND = Duration.ofSeconds(25);
    /**
     * A call placed here just before an API node heard the leaving advert arrives within
     * milliseconds: the drain ends only after this long without an arrival.
     */
    static final Duration QUIET = Duration.ofMillis(250);

    private final Vertx vertx;
    private final ServingEngine engine;
    private final ModelStore store;
    private final String nodeId;
    private final String clusterNodeId;
    private final String device;
    private final long budgetBytes;
    private final long hostOverheadBytes;
    private final Duration interval;
    /** The other serving nodes' adverts, to see when what this node holds is in service elsewhere. */
    private final Placement peers;
    private final AtomicLong sequence = new AtomicLong();
    private final List<MessageConsumer<?>> consumers = new ArrayList<>();
    /** Calls and loads accepted and not answered yet. */
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile long lastArrivalNanos = System.nanoTime();
    private volatile Phase phase = Phase.SERVING;
    private Future<Void> stopped;
    private long timer = -1;

    /**
     * @param interval how often to advertise
     * @param expiry how old another node's advert may be before it no longer counts (placement's expiry)
     */
    public ServingNode(Vertx vertx, ServingEngine engine, ModelStore store, String nodeId, String clusterNodeId, String device,
                       long budgetBytes, long hostOverheadBytes, Duration interval, Duration expiry) {
        this.vertx = vertx;
        this.engine = engine;
        this.store = store;
        this.nodeId = nodeId;
        this.clusterNodeId = clusterNodeId;
        this.device = device;
        this.budgetBytes = budgetBytes;
        this.hostOverheadBytes = hostOverheadBytes;
        this.interval = interval;
        this.peers = new Placement(vertx, expiry);
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
        return Future.join(calls.completion(), artifacts.completion(), peers.start()).<Void>mapEmpty()
                .onSuccess(v -> {
                    advertise();
                    LOG.info("Serving node {} consuming on the cluster (device {})", nodeId, device);
                });
    }

    /**
     * Leaves without losing a call: advertises that it is leaving, then drains (see the class
     * comment); completes when it is {@link Phase#DRAINED}. The consumers stay registered, turning
     * late calls away unrun, until {@link #close}.
     */
    public synchronized Future<Void> stop() {
        if (stopped != null) {
            return stopped;
        }
        phase = Phase.LEAVING;
        lastArrivalNanos = System.nanoTime();
        advertise(); // the API nodes stop placing calls here and load elsewhere what only this node holds
        LOG.info("Serving node {} is leaving: draining {} accepted call(s) and handing over {}", nodeId, accepted.get(),
                unplacedElsewhere());
        stopped = drain().map(v -> {
            phase = Phase.DRAINED;
            vertx.cancelTimer(timer);
            advertise();
            return v;
        });
        return stopped;
    }

    /** Unregisters the consumers (after {@link #stop}, or instead of it when the node never served). */
    public Future<Void> close() {
        phase = Phase.DRAINED;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        List<Future<Void>> stops = new ArrayList<>(consumers.stream().map(MessageConsumer::unregister).toList());
        stops.add(peers.stop());
        return Future.join(stops).mapEmpty();
    }

    private Future<Void> drain() {
        Promise<Void> done = Promise.promise();
        long started = System.nanoTime();
        boolean[] handedOver = {false};
        vertx.setPeriodic(20, id -> {
            long now = System.nanoTime();
            if (!handedOver[0]) {
                List<ModelKey> unplaced = unplacedElsewhere();
                handedOver[0] = unplaced.isEmpty() || now - started >= HANDOFF_BOUND.toNanos();
                if (!unplaced.isEmpty() && handedOver[0]) {
                    LOG.warn("Serving node {}: after {} s no other node holds {} in service; leaving all the same", nodeId,
                            HANDOFF_BOUND.toSeconds(), unplaced);
                }
            }
            boolean idle = accepted.get() == 0 && now - lastArrivalNanos >= QUIET.toNanos();
            boolean overdue = now - started >= DRAIN_BOUND.toNanos();
            if (idle && handedOver[0] || overdue) {
                vertx.cancelTimer(id);
                if (overdue) {
                    LOG.warn("Serving node {}: drain bound of {} s reached with {} call(s) still running", nodeId,
                            DRAIN_BOUND.toSeconds(), accepted.get());
                }
                LOG.info("Serving node {} drained in {} ms", nodeId, (now - started) / 1_000_000);
                done.tryComplete();
            }
        });
        return done.future();
    }

    /**
     * The versions in memory here that no other live node holds in service, while there is any
     * other node to hold them (with none, nothing can be handed over).
     */
    List<ModelKey> unplacedElsewhere() {
        List<NodeAdvert> others = peers.live().stream().filter(n -> !n.nodeId().equals(nodeId)).toList();
        if (others.isEmpty()) {
            return List.of();
        }
        List<ModelKey> unplaced = new ArrayList<>();
        for (ModelStatus s : engine.models()) {
            if (s.state() != ModelStatus.State.UNLOADED
                    && others.stream().noneMatch(n -> n.holdsInService(s.key()))) {
                unplaced.add(s.key());
            }
        }
        return unplaced;
    }

    private void handle(Message<Object> msg) {
        String op = msg.headers().get(ServingWire.OP);
        if (op == null) {
            msg.fail(ServingFailures.OTHER, "no operation");
            return;
        }
        if (phase == Phase.DRAINED && !UNLOAD.equals(op)) {
            msg.fail(ServingFailures.NOT_RUN, "serving node " + nodeId + " is stopping; the call did not run there");
            return;
        }
        lastArrivalNanos = System.nanoTime();
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
        accepted.incrementAndGet();
        engine.infer(call.key(), call.request()).onComplete(ar -> {
            if (ar.succeeded()) {
                msg.reply(new ServingWire.InferAnswer(ar.result(), nodeId));
            } else {
                ServingFailures.reply(msg, ar.cause());
            }
            accepted.decrementAndGet();
        });
    }

    private void load(Message<Object> msg) {
        JsonObject body = (JsonObject) msg.body();
        ModelKey key = keyOf(body.getJsonObject("key"));
        accepted.incrementAndGet();
        Artifacts.obtain(vertx, store, body.getString("sha256"), body.getLong("size"), body.getString("source"))
                .compose(artifact -> engine.load(key, artifact, ModelManifest.fromJson(body.getJsonObject("manifest")),
                        PoolConfig.fromJson(body.getJsonObject("pool"))))
                .onComplete(ar -> {
                    advertise();
                    if (ar.succeeded()) {
                        msg.reply(reportJson(ar.result()));
                    } else {
                        ServingFailures.reply(msg, ar.cause());
                    }
                    accepted.decrementAndGet();
                });
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
        // a leaving node still lists what it holds: API nodes load elsewhere what only it holds
        return new NodeAdvert(nodeId, clusterNodeId, sequence.incrementAndGet(), device, Math.max(0, budgetBytes - used),
                depth, held, phase != Phase.SERVING);
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
