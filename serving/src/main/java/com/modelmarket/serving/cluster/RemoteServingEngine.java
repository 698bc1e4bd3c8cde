package com.modelmarket.serving.cluster;

import com.modelmarket.serving.FineTuneResult;
import com.modelmarket.serving.HostStatus;
import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelNotLoadedException;
import com.modelmarket.serving.ModelStatus;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.RequestOutcome;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.TrainedArtifact;
import com.modelmarket.serving.TrainingRun;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.store.StoredArtifact;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import com.modelmarket.serving.training.TrainingOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serving engine of an API node: every call goes over the clustered event bus to a serving
 * node chosen by {@link Placement}. {@code load} sends the artifact's hash, manifest and pool to the
 * node that holds the version or has the most free budget (it fetches a missing artifact from this
 * node, {@link Artifacts}); {@code infer} sends the tensors in a binary frame with what is left of the
 * deadline to the least loaded holder, and a version registered here that no live node holds is
 * loaded again first (a cold start). A second holder is loaded when the only one is busy, so calls
 * spread. A node that says it is leaving gets no new calls, its calls in flight are answered by
 * it, and each version registered here that only it held is loaded on another node at once (calls
 * meanwhile wait for that load, as for a cold start). Calls in flight to a node that is dropped
 * (gone without draining) fail at once with {@link OverloadedException} (503, Retry-After); a call
 * that certainly reached no engine (no consumer at the address, or turned away unrun by a drained
 * node) is tried once on another node. Training and fine-tuning jobs are not forwarded: they run in
 * the local engine given for them (job hosts on the api node's machine), or are refused without one.
 */
public final class RemoteServingEngine implements ServingEngine {

    private static final Logger LOG = LoggerFactory.getLogger(RemoteServingEngine.class);
    private static final Duration RETRY = Duration.ofSeconds(1);
    /** A holder this busy (advertised queue + calls in flight from here) gets a replica loaded beside it. */
    static final int SPREAD_DEPTH = 2;

    /** What this node asked to load, so that it can load it again elsewhere. */
    private record Registration(String sha256, long size, JsonObject manifest, JsonObject pool, LoadReport report) {
    }

    private record Pending(Context context, Promise<InferenceResult> promise) {
    }

    private final Vertx vertx;
    private final ServingEngine jobs;
    private final Placement placement;
    private final String artifactSource;
    private final Duration defaultTimeout;
    private final Duration grace;
    private final Map<ModelKey, Registration> registrations = new ConcurrentHashMap<>();
    private final Map<ModelKey, Future<String>> loadsInProgress = new ConcurrentHashMap<>();
    private final Map<String, Set<Pending>> inFlight = new ConcurrentHashMap<>();
    private final List<Consumer<RequestFacts>> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean closing;

    /**
     * @param artifactSource this node's artifact address ({@link ServingWire#artifactAddress}), which
     *     serving nodes fetch missing artifacts from
     * @param defaultTimeout a request's deadline when it names none
     * @param grace how much longer than the deadline to wait for a serving node's answer
     */
    public RemoteServingEngine(Vertx vertx, Placement placement, String artifactSource, Duration defaultTimeout, Duration grace) {
        this(vertx, placement, artifactSource, defaultTimeout, grace, null);
    }

    /** @param jobs the local engine that runs training and fine-tuning jobs (closed with this one); null: refuse them */
    public RemoteServingEngine(Vertx vertx, Placement placement, String artifactSource, Duration defaultTimeout, Duration grace,
                               ServingEngine jobs) {
        this.jobs = jobs;
        this.vertx = vertx;
        this.placement = placement;
        this.artifactSource = artifactSource;
        this.defaultTimeout = defaultTimeout;
        this.grace = grace;
        ServingWire.register(vertx.eventBus());
        placement.onDrop(this::failInFlight);
        placement.onLeaving(this::handOver);
    }

    @Override
    public Future<LoadReport> load(ModelKey key, StoredArtifact artifact, ModelManifest manifest, PoolConfig config) {
        Registration wanted = new Registration(artifact.sha256(), artifact.sizeBytes(), manifest.toJson(), config.toJson(), null);
        Optional<NodeAdvert> node = placement.holder(key, Set.of()).or(() -> placement.roomiest(key, Set.of()));
        if (node.isEmpty()) {
            return Future.failedFuture(noNode(key));
        }
        return sendLoad(node.get().nodeId(), key, wanted).map(report -> {
            registrations.put(key, new Registration(wanted.sha256(), wanted.size(), wanted.manifest(), wanted.pool(), report));
            return report;
        });
    }

    private Future<LoadReport> sendLoad(String nodeId, ModelKey key, Registration r) {
        JsonObject body = new JsonObject().put("key", ServingNode.keyJson(key)).put("sha256", r.sha256()).put("size", r.size())
                .put("manifest", r.manifest()).put("pool", r.pool()).put("source", artifactSource);
        // loading includes validation, the example run and calibration; the host may have to start
        DeliveryOptions options = new DeliveryOptions().addHeader(ServingWire.OP, ServingNode.LOAD)
                .setSendTimeout(Duration.ofMinutes(2).toMillis());
        return vertx.eventBus().<JsonObject>request(ServingWire.servingAddress(nodeId), body, options)
                .map(reply -> ServingNode.reportOf(reply.body()))
                .recover(err -> Future.failedFuture(ServingFailures.toServing(err, key, nodeId)));
    }

    @Override
    public Future<InferenceResult> infer(ModelKey key, InferenceRequest request) {
        if (closing) {
            return refused(key, request, new OverloadedException("this node is shutting down", RETRY));
        }
        Duration timeout = request.timeout() != null ? request.timeout() : defaultTimeout;
        long deadline = System.nanoTime() + timeout.toNanos();
        return attempt(key, request, deadline, new HashSet<>(), false)
                .andThen(ar -> {
                    RequestFacts facts = ar.succeeded() ? ar.result().facts()
                            : RequestFacts.refused(key, RequestOutcome.OVERLOADED, items(request));
                    listeners.forEach(l -> l.accept(facts));
                });
    }

    private Future<InferenceResult> attempt(ModelKey key, InferenceRequest request, long deadline, Set<String> excluded,
                                            boolean retried) {
        Optional<NodeAdvert> holder = placement.holder(key, excluded);
        Future<Target> target;
        if (holder.isPresent()) {
            target = Future.succeededFuture(new Target(holder.get().nodeId(), false));
            maybeSpread(key, holder.get());
        } else {
            Registration r = registrations.get(key);
            if (r == null) {
                return Future.failedFuture(new ModelNotLoadedException(key));
            }
            target = loadSomewhere(key, r, excluded).map(node -> new Target(node, true));
        }
        return target.compose(t -> send(t.nodeId(), key, request, deadline)
                .map(result -> t.cold() ? withColdStart(result) : result)
                .recover(err -> {
                    if (!retried && ServingFailures.neverDelivered(err)) {
                        excluded.add(t.nodeId());
                        return attempt(key, request, deadline, excluded, true);
                    }
                    return Future.failedFuture(ServingFailures.toServing(err, key, t.nodeId()));
                }));
    }

    private record Target(String nodeId, boolean cold) {
    }

    private Future<InferenceResult> send(String nodeId, ModelKey key, InferenceRequest request, long deadline) {
        long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
        ServingWire.InferCall call = new ServingWire.InferCall(key, request.withTimeout(Duration.ofMillis(left)), left);
        DeliveryOptions options = new DeliveryOptions().addHeader(ServingWire.OP, ServingNode.INFER)
                .setSendTimeout(left + grace.toMillis());
        Context context = vertx.getOrCreateContext();
        Pending pending = new Pending(context, Promise.promise());
        Set<Pending> mine = inFlight.computeIfAbsent(nodeId, id -> ConcurrentHashMap.newKeySet());
        mine.add(pending);
        var counter = placement.inFlight(nodeId);
        counter.incrementAndGet();
        vertx.eventBus().<ServingWire.InferAnswer>request(ServingWire.servingAddress(nodeId), call, options)
                .onComplete(ar -> {
                    counter.decrementAndGet();
                    mine.remove(pending);
                    if (ar.succeeded()) {
                        pending.promise().tryComplete(ar.result().body().result());
                    } else {
                        pending.promise().tryFail(ar.cause());
                    }
                });
        if (!placement.answers(nodeId)) {
            failInFlight(nodeId); // dropped between the pick and the send
        }
        return pending.promise().future();
    }

    /** A node was dropped: what this node sent it fails now, on each call's own context, as 503. */
    private void failInFlight(String nodeId) {
        Set<Pending> pending = inFlight.remove(nodeId);
        if (pending == null || pending.isEmpty()) {
            return;
        }
        LOG.warn("Failing {} call(s) in flight to serving node {}, which was dropped", pending.size(), nodeId);
        for (Pending p : pending) {
            p.context().runOnContext(v -> p.promise().tryFail(
                    new OverloadedException("the serving node running this call left the cluster; try again", RETRY)));
        }
    }

    /**
     * A node is leaving: every version registered here that it held and no live node holds is
     * loaded on the roomiest other node now, so that it is in service there before the leaving node
     * goes (it waits for that, bounded); calls for it meanwhile join this load.
     */
    private void handOver(NodeAdvert leaving) {
        for (NodeAdvert.Held held : leaving.models()) {
            ModelKey key = held.key();
            Registration r = registrations.get(key);
            if (r == null || held.state() == ModelStatus.State.UNLOADED || placement.holders(key) > 0) {
                continue;
            }
            loadSomewhere(key, r, new HashSet<>(Set.of(leaving.nodeId())))
                    .onSuccess(node -> LOG.info("Loaded {} on serving node {} in place of leaving node {}", key, node, leaving.nodeId()))
                    .onFailure(err -> LOG.warn("Could not load {} elsewhere before node {} leaves: {}", key, leaving.nodeId(), err.toString()));
        }
    }

    /** Loads a registered version on the roomiest node (one load per version at a time); its node id. */
    private Future<String> loadSomewhere(ModelKey key, Registration r, Set<String> excluded) {
        Future<String> running = loadsInProgress.get(key);
        if (running != null) {
            return running;
        }
        // no node now is not remembered: the next call tries again (a node may have joined)
        Optional<NodeAdvert> node = placement.roomiest(key, excluded);
        if (node.isEmpty()) {
            return Future.failedFuture(noNode(key));
        }
        String id = node.get().nodeId();
        return loadsInProgress.computeIfAbsent(key, k -> sendLoad(id, key, r).map(report -> id)
                .onComplete(ar -> loadsInProgress.remove(k)));
    }

    /** Loads a second holder beside a busy only one, in the background: calls then spread over both. */
    private void maybeSpread(ModelKey key, NodeAdvert holder) {
        Registration r = registrations.get(key);
        if (r == null || loadsInProgress.containsKey(key) || placement.holders(key) > 1
                || placement.load(holder) < SPREAD_DEPTH) {
            return;
        }
        Set<String> excluded = new HashSet<>(Set.of(holder.nodeId()));
        if (placement.roomiest(key, excluded).isEmpty()) {
            return;
        }
        loadSomewhere(key, r, excluded).onSuccess(node -> LOG.info("Loaded a replica of {} on serving node {}", key, node))
                .onFailure(err -> LOG.warn("Could not load a replica of {}: {}", key, err.toString()));
    }

    private static InferenceResult withColdStart(InferenceResult r) {
        RequestFacts f = r.facts();
        return new InferenceResult(r.outputs(), new RequestFacts(f.model(), f.outcome(), f.items(), f.queueNanos(),
                f.computeNanos(), f.batchSize(), f.batchId(), true, f.loadNanos()), r.node());
    }

    private Future<InferenceResult> refused(ModelKey key, InferenceRequest request, Throwable err) {
        RequestFacts facts = RequestFacts.refused(key, RequestOutcome.OVERLOADED, items(request));
        listeners.forEach(l -> l.accept(facts));
        return Future.failedFuture(err);
    }

    private static int items(InferenceRequest request) {
        return request.inputs().isEmpty() ? 0 : (int) request.inputs().get(0).items();
    }

    private static OverloadedException noNode(ModelKey key) {
        return new OverloadedException("no serving node is available to load " + key, RETRY);
    }

    @Override
    public Future<FineTuneResult> fineTune(ModelKey baseKey, StoredArtifact base, ModelManifest manifest, FineTuneRows rows,
                                           FineTuneSettings settings, TrainingOptions options) {
        return jobs == null ? Future.failedFuture(noJobs()) : jobs.fineTune(baseKey, base, manifest, rows, settings, options);
    }

    @Override
    public Future<TrainedArtifact> train(TrainingRun run, TrainingOptions options) {
        return jobs == null ? Future.failedFuture(noJobs()) : jobs.train(run, options);
    }

    private static OverloadedException noJobs() {
        return new OverloadedException("this node runs no training jobs", Duration.ofSeconds(60));
    }

    @Override
    public Future<Void> unload(ModelKey key) {
        registrations.remove(key);
        List<Future<?>> unloads = new ArrayList<>();
        for (NodeAdvert n : placement.live()) {
            if (n.holds(key)) {
                unloads.add(vertx.eventBus().request(ServingWire.servingAddress(n.nodeId()),
                        new JsonObject().put("key", ServingNode.keyJson(key)),
                        new DeliveryOptions().addHeader(ServingWire.OP, ServingNode.UNLOAD).setSendTimeout(60_000)));
            }
        }
        return Future.join(unloads).mapEmpty();
    }

    @Override
    public Optional<ModelStatus> status(ModelKey key) {
        Registration r = registrations.get(key);
        LoadReport report = r == null ? null : r.report();
        Optional<NodeAdvert.Held> held = placement.held(key);
        if (held.isPresent()) {
            NodeAdvert.Held h = held.get();
            return Optional.of(new ModelStatus(key, h.state(), 0, h.busyWorkers(), h.queuedItems(), report, 0, 0, 0));
        }
        return r == null ? Optional.empty()
                : Optional.of(new ModelStatus(key, ModelStatus.State.UNLOADED, 0, 0, 0, report, 0, 0, 0));
    }

    /** {@code status(key).isPresent()} without scanning the adverts for a version this node registered (every call). */
    @Override
    public boolean isRegistered(ModelKey key) {
        return registrations.containsKey(key) || placement.held(key).isPresent();
    }

    @Override
    public List<ModelStatus> models() {
        Map<ModelKey, ModelStatus> all = new LinkedHashMap<>();
        for (NodeAdvert n : placement.live()) {
            for (NodeAdvert.Held h : n.models()) {
                all.putIfAbsent(h.key(), status(h.key()).orElseThrow());
            }
        }
        registrations.keySet().forEach(k -> all.putIfAbsent(k, status(k).orElseThrow()));
        return List.copyOf(all.values());
    }

    @Override
    public List<HostStatus> hosts() {
        return List.of(); // the hosts are the serving nodes'
    }

    @Override
    public void addRequestListener(Consumer<RequestFacts> listener) {
        listeners.add(listener);
    }

    /** Refuses new calls and waits (bounded) for the calls in flight to be answered; then closes the jobs' engine. */
    @Override
    public Future<Void> close() {
        return closeCalls().compose(v -> jobs == null ? Future.succeededFuture() : jobs.close());
    }

    private Future<Void> closeCalls() {
        closing = true;
        Promise<Void> done = Promise.promise();
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        vertx.setPeriodic(1, 20, id -> {
            boolean idle = inFlight.values().stream().allMatch(Set::isEmpty);
            if (idle || System.nanoTime() > until) {
                vertx.cancelTimer(id);
                done.tryComplete();
            }
        });
        return done.future();
    }
}
