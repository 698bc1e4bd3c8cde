package com.modelmarket.serving.engine;

import static com.modelmarket.serving.engine.VersionState.LOADED;
import static com.modelmarket.serving.engine.VersionState.LOADING;
import static com.modelmarket.serving.engine.VersionState.REGISTERED;
import static com.modelmarket.serving.engine.VersionState.RETIRED;
import static com.modelmarket.serving.engine.VersionState.UNLOADED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.LoadReport;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.batch.Batcher;
import com.modelmarket.serving.metrics.ModelMetrics;
import com.modelmarket.serving.model.ArtifactKind;
import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TensorSpec;
import com.modelmarket.serving.store.StoredArtifact;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A served version's states and the memory account, without a model or a runtime. */
class VersionStateTest {

    private static final Map<VersionState, Set<VersionState>> ALLOWED = Map.of(
            REGISTERED, EnumSet.of(LOADING, RETIRED),
            LOADING, EnumSet.of(LOADED, UNLOADED, RETIRED),
            LOADED, EnumSet.of(UNLOADED, RETIRED),
            UNLOADED, EnumSet.of(LOADING, RETIRED),
            RETIRED, EnumSet.noneOf(VersionState.class));

    private record FakeModel(ModelKey key) implements ModelRuntime.Model {
        @Override
        public void close() {}
    }

    /** A one-in, one-out manifest: only its artifact kind matters here. */
    private static final ModelManifest MANIFEST = new ModelManifest("m",
            List.of(new TensorSpec("x", DataType.FP32, -1, 1)), List.of(new TensorSpec("y", DataType.FP32, -1, 1)),
            List.of(Tensor.ofFloats("x", new long[] {1, 1}, 0f)));

    private static ServedVersion version(String owner, String name, long bytes) {
        return version(owner, name, bytes, MANIFEST);
    }

    private static ServedVersion version(String owner, String name, long bytes, ModelManifest manifest) {
        ModelKey key = new ModelKey(owner, name, "1");
        ModelMetrics metrics = new ModelMetrics(new SimpleMeterRegistry(), key);
        PoolConfig pool = PoolConfig.defaults();
        return new ServedVersion(key, new StoredArtifact("0".repeat(64), bytes, Path.of("x.pt")), manifest, pool,
                metrics, v -> new Batcher(null, key, pool, () -> {}, metrics, facts -> {}));
    }

    @Test
    @DisplayName("a version's memory is estimated by its artifact kind when the pool does not say")
    void memoryEstimate() {
        assertEquals(1000, version("acme", "ts", 1000).memoryBytes);
        assertEquals(3 * 1000 + (2L << 20),
                version("acme", "tm", 1000, MANIFEST.withArtifact(ArtifactKind.TRAINED_MODEL)).memoryBytes);
    }

    private static LoadReport report(ServedVersion v) {
        return new LoadReport(v.key, v.artifact.sha256(), v.artifact.sizeBytes(), Duration.ZERO, v.memoryBytes, "cpu");
    }

    @Test
    @DisplayName("every state allows exactly its listed successors and refuses the rest")
    void transitionTable() {
        for (VersionState from : VersionState.values()) {
            for (VersionState to : VersionState.values()) {
                assertEquals(ALLOWED.get(from).contains(to), from.allows(to), from + " -> " + to);
            }
        }
    }

    @Test
    @DisplayName("a version loads, unloads, cold-starts and retires; only its current load is awaited")
    void lifecycle() {
        ServedVersion v = version("acme", "m", 100);
        assertEquals(REGISTERED, v.state());
        FakeModel model = new FakeModel(v.key);
        Promise<ModelRuntime.Model> first = Promise.promise();
        assertFalse(v.startLoading(first.future()), "the first load is not a cold start");
        assertEquals(LOADING, v.state());
        assertTrue(v.awaits(first.future()));
        assertFalse(v.serves(model), "no worker starts before the model is there");
        first.complete(model);
        assertTrue(v.serves(model));
        v.finishLoading(report(v));
        assertEquals(LOADED, v.state());
        assertTrue(v.loaded());
        assertSame(model, v.unload());
        assertEquals(UNLOADED, v.state());
        assertFalse(v.awaits(first.future()), "a superseded load frees its own model");

        Future<ModelRuntime.Model> second = Promise.<ModelRuntime.Model>promise().future();
        assertTrue(v.startLoading(second), "a reload is a cold start");
        v.dropLoading();
        assertEquals(UNLOADED, v.state());
        assertFalse(v.awaits(second));

        assertTrue(v.startLoading(Future.succeededFuture(model)));
        v.finishLoading(report(v));
        assertSame(model, v.retire(), "retiring a loaded version hands its model over to be freed");
        assertEquals(RETIRED, v.state());
        assertFalse(v.inMemoryOrLoading());
    }

    @Test
    @DisplayName("moves the state does not allow are refused and change nothing")
    void refusedTransitions() {
        ServedVersion v = version("acme", "m", 100);
        assertThrows(IllegalStateException.class, () -> v.finishLoading(report(v)));
        assertThrows(IllegalStateException.class, v::unload);
        assertThrows(IllegalStateException.class, v::dropLoading);
        assertThrows(IllegalStateException.class, v::model);
        Future<ModelRuntime.Model> loading = Promise.<ModelRuntime.Model>promise().future();
        v.startLoading(loading);
        assertThrows(IllegalStateException.class, () -> v.startLoading(loading));
        assertThrows(IllegalStateException.class, v::unload);
        assertEquals(LOADING, v.state());
        assertNull(v.retire(), "a load still running frees its model itself");
        assertThrows(IllegalStateException.class, v::retire);
        assertThrows(IllegalStateException.class, () -> v.startLoading(loading));
        assertThrows(IllegalStateException.class, () -> v.finishLoading(report(v)));
        assertEquals(RETIRED, v.state());
    }

    @Test
    @DisplayName("the memory account charges the owner's overhead once, discharges exactly once and evicts idle versions")
    void memoryAccount() {
        MemoryAccount account = new MemoryAccount(1000, 300);
        ServedVersion a = version("acme", "a", 200);
        ServedVersion b = version("acme", "b", 200);
        ServedVersion c = version("other", "c", 400);
        assertEquals(500, account.costOf(a));
        account.reserve(a, List.of(), victim -> false);
        assertEquals(200, account.costOf(b), "the owner's host is paid for already");
        account.reserve(b, List.of(a), victim -> false);
        assertEquals(700, account.usedBytes());
        account.discharge(b);
        account.discharge(b);
        assertEquals(500, account.usedBytes(), "a second discharge gives nothing back");

        // c (700 with its owner's overhead) fits only if a goes; a is not loaded, so it is no victim
        assertThrows(OverloadedException.class, () -> account.reserve(c, List.of(a), victim -> false));
        a.startLoading(Future.succeededFuture(new FakeModel(a.key)));
        a.finishLoading(report(a));
        assertThrows(OverloadedException.class, () -> account.reserve(c, List.of(a), victim -> false),
                "a version the evictor finds busy stays");
        account.reserve(c, List.of(a), victim -> {
            victim.unload();
            account.discharge(victim);
            return true;
        });
        assertEquals(UNLOADED, a.state());
        assertEquals(700, account.usedBytes());
    }
}
