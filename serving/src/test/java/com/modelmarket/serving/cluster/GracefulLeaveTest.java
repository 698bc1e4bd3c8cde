package com.modelmarket.serving.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.FineTuneResult;
import com.modelmarket.serving.HostStatus;
import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelNotLoadedException;
import com.modelmarket.serving.ModelStatus;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.RequestOutcome;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.TrainedArtifact;
import com.modelmarket.serving.TrainingRun;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import com.modelmarket.serving.training.TrainingOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The leave protocol of a serving node, in one JVM on a local event bus (the bus is the same API as
 * the clustered one): an API node's {@link RemoteServingEngine} and {@link Placement} in front of
 * two {@link ServingNode}s whose engines are stand-ins that can hold calls and loads back. What a
 * real cluster does under load is {@code ClusterRollingRestartTest}'s business.
 */
class GracefulLeaveTest {

    private static final ModelKey KEY = new ModelKey("owner", "digits", "1.0.0");
    private static final Duration EXPIRY = Duration.ofSeconds(2);

    private Vertx vertx;
    private StoredArtifact artifact;
    private ModelManifest manifest;
    private ModelStore store;
    private Placement placement;
    private RemoteServingEngine remote;
    private final Map<String, StandInEngine> engines = new ConcurrentHashMap<>();
    private final Map<String, ServingNode> nodes = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        Path fixtures = Path.of(System.getProperty("modelmarket.fixtures", "fixtures"));
        store = new ModelStore(Files.createTempDirectory("mm-leave-test"));
        try (InputStream in = Files.newInputStream(fixtures.resolve("digits_mlp.pt"))) {
            artifact = store.put(in, 1 << 24);
        }
        manifest = ModelManifest.fromJson(new JsonObject(Buffer.buffer(Files.readAllBytes(fixtures.resolve("digits_mlp.json")))));
        for (String id : List.of("a", "b")) {
            StandInEngine engine = new StandInEngine(id);
            ServingNode node = new ServingNode(vertx, engine, store, id, "cluster-" + id, "cpu", 1L << 30, 0,
                    Duration.ofMillis(100), EXPIRY);
            node.start().await(10, TimeUnit.SECONDS);
            engines.put(id, engine);
            nodes.put(id, node);
        }
        placement = new Placement(vertx, EXPIRY);
        placement.start().await(10, TimeUnit.SECONDS);
        remote = new RemoteServingEngine(vertx, placement, ServingWire.artifactAddress("none"), Duration.ofSeconds(30),
                Duration.ofSeconds(2));
        await("both serving nodes advertise").atMost(Duration.ofSeconds(5)).until(() -> placement.live().size() == 2);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private Future<InferenceResult> call() {
        return remote.infer(KEY, new InferenceRequest(List.of(Tensor.ofFloats("pixels", new long[] {1, 64}, new float[64])),
                List.of(), null));
    }

    /** Registers the version through the API node's engine; the node it landed on. */
    private String register() throws Exception {
        remote.load(KEY, artifact, manifest, PoolConfig.defaults()).await(10, TimeUnit.SECONDS);
        await("the holder advertises the version").atMost(Duration.ofSeconds(5)).until(() -> placement.holders(KEY) == 1);
        return engines.values().stream().filter(e -> e.holds(KEY)).findFirst().orElseThrow().id;
    }

    @Test
    @DisplayName("a leaving node gets no new calls, answers those it accepted, and stops only once they are answered")
    void leavingNodeAnswersWhatItAccepted() throws Exception {
        String first = register();
        String other = first.equals("a") ? "b" : "a";
        engines.get(other).load(KEY, artifact, manifest, PoolConfig.defaults());
        await("both nodes hold the version").atMost(Duration.ofSeconds(5)).until(() -> placement.holders(KEY) == 2);

        StandInEngine leaving = engines.get("b");
        leaving.holdCalls = true;
        List<Future<InferenceResult>> before = new ArrayList<>();
        await("a call is running on node b").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
            before.add(call());
            return !leaving.held.isEmpty();
        });
        Future<Void> stopped = nodes.get("b").stop();
        await("node b is out of placement").atMost(Duration.ofSeconds(2)).until(() -> !placement.isLive("b"));

        List<Future<InferenceResult>> after = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            after.add(call());
        }
        for (Future<InferenceResult> f : after) {
            assertEquals("a", f.await(5, TimeUnit.SECONDS).node(), "a call placed after the leaving advert goes to node a");
        }
        assertFalse(stopped.isComplete(), "node b does not stop while a call it accepted is running");
        assertTrue(before.stream().noneMatch(Future::failed), "no call in flight to the leaving node failed");

        leaving.release();
        stopped.await(5, TimeUnit.SECONDS);
        for (Future<InferenceResult> f : before) {
            assertTrue(f.await(5, TimeUnit.SECONDS).node() != null, "every call sent before the leave is answered");
        }
        assertTrue(before.stream().anyMatch(f -> "b".equals(f.result().node())), "the leaving node answered its own calls");

        // drained: a call that still reaches it is turned away unrun, which the API node retries elsewhere
        leaving.drained = true;
        Throwable late = vertx.eventBus().request(ServingWire.servingAddress("b"),
                        new ServingWire.InferCall(KEY, new InferenceRequest(List.of(Tensor.ofFloats("pixels", new long[] {1, 64},
                                new float[64])), List.of(), null), 1000),
                        new DeliveryOptions().addHeader(ServingWire.OP, ServingNode.INFER))
                .map(m -> (Throwable) null).otherwise(err -> err).await(5, TimeUnit.SECONDS);
        assertTrue(late instanceof ReplyException r && r.failureCode() == ServingFailures.NOT_RUN, String.valueOf(late));
        assertTrue(ServingFailures.neverDelivered(late));
        assertEquals(0, leaving.runAfterDrain, "nothing reached the engine after the drain");
    }

    @Test
    @DisplayName("a version only the leaving node holds is loaded on the other node before it goes; calls meanwhile wait for that load")
    void handOverBeforeLeaving() throws Exception {
        String holder = register();
        String other = holder.equals("a") ? "b" : "a";
        StandInEngine taker = engines.get(other);
        taker.holdLoads = true;

        Future<Void> stopped = nodes.get(holder).stop();
        await("the API node asks the other node to load the version").atMost(Duration.ofSeconds(5)).until(() -> taker.holds(KEY));
        Future<InferenceResult> meanwhile = call();
        assertFalse(stopped.isComplete(), "the leaving node waits until the version is in service elsewhere");
        assertFalse(meanwhile.isComplete(), "a call waits for the load on the other node");

        taker.finishLoads();
        assertEquals(other, meanwhile.await(5, TimeUnit.SECONDS).node());
        stopped.await(5, TimeUnit.SECONDS);
        assertEquals(0, engines.get(holder).calls, "no call was sent to the leaving node");
    }

    /** An engine that answers at once, or holds calls (and loads) back until told. */
    static final class StandInEngine implements ServingEngine {

        final String id;
        private final Map<ModelKey, Promise<LoadReport>> loads = new ConcurrentHashMap<>();
        final List<Promise<Void>> held = new CopyOnWriteArrayList<>();
        volatile boolean holdCalls;
        volatile boolean holdLoads;
        volatile boolean drained;
        volatile int calls;
        volatile int runAfterDrain;

        StandInEngine(String id) {
            this.id = id;
        }

        boolean holds(ModelKey key) {
            return loads.containsKey(key);
        }

        void release() {
            held.forEach(Promise::tryComplete);
        }

        void finishLoads() {
            loads.forEach((k, p) -> p.tryComplete(report(k)));
        }

        private LoadReport report(ModelKey key) {
            return new LoadReport(key, "0".repeat(64), 1, Duration.ZERO, 1, "cpu");
        }

        @Override
        public Future<LoadReport> load(ModelKey key, StoredArtifact artifact, ModelManifest manifest, PoolConfig config) {
            Promise<LoadReport> load = loads.computeIfAbsent(key, k -> Promise.promise());
            if (!holdLoads) {
                load.tryComplete(report(key));
            }
            return load.future();
        }

        @Override
        public Future<InferenceResult> infer(ModelKey key, InferenceRequest request) {
            calls++;
            if (drained) {
                runAfterDrain++;
            }
            Promise<LoadReport> load = loads.get(key);
            if (load == null) {
                return Future.failedFuture(new ModelNotLoadedException(key));
            }
            return load.future().compose(r -> {
                if (!holdCalls) {
                    return Future.succeededFuture(result(key));
                }
                Promise<Void> gate = Promise.promise();
                held.add(gate);
                return gate.future().map(v -> result(key));
            });
        }

        private InferenceResult result(ModelKey key) {
            return new InferenceResult(List.of(Tensor.ofFloats("probabilities", new long[] {1, 1}, 1f)),
                    new RequestFacts(key, RequestOutcome.SUCCESS, 1, 0, 0, 1, 0, false, 0), id);
        }

        @Override
        public Future<Void> unload(ModelKey key) {
            loads.remove(key);
            return Future.succeededFuture();
        }

        @Override
        public Optional<ModelStatus> status(ModelKey key) {
            return Optional.ofNullable(loads.get(key)).map(p -> status(key, p));
        }

        private static ModelStatus status(ModelKey key, Promise<LoadReport> load) {
            boolean done = load.future().isComplete();
            return new ModelStatus(key, done ? ModelStatus.State.LOADED : ModelStatus.State.LOADING, 1, 0, 0,
                    done ? load.future().result() : null, 1, 0, 0);
        }

        @Override
        public List<ModelStatus> models() {
            return loads.entrySet().stream().map(e -> status(e.getKey(), e.getValue())).toList();
        }

        @Override
        public List<HostStatus> hosts() {
            return List.of();
        }

        @Override
        public void addRequestListener(Consumer<RequestFacts> listener) {
        }

        @Override
        public Future<Void> close() {
            return Future.succeededFuture();
        }

        @Override
        public Future<FineTuneResult> fineTune(ModelKey baseKey, StoredArtifact base, ModelManifest manifest, FineTuneRows rows,
                                               FineTuneSettings settings, TrainingOptions options) {
            return Future.failedFuture(new UnsupportedOperationException());
        }

        @Override
        public Future<TrainedArtifact> train(TrainingRun run, TrainingOptions options) {
            return Future.failedFuture(new UnsupportedOperationException());
        }
    }
}
