package com.modelmarket.serving;

import static com.modelmarket.serving.Fixtures.await;
import static com.modelmarket.serving.Fixtures.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.ModelRejectedException.Check;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModelLoadingTest {

    private Vertx vertx;
    private ModelStore store;
    private ServingEngine engine;
    private int versions;

    @BeforeAll
    void start(@TempDir Path dataDir) {
        vertx = Vertx.vertx();
        store = new ModelStore(dataDir);
        engine = await(ServingEngine.create(vertx, ServingConfig.defaults(), new SimpleMeterRegistry()));
    }

    @AfterAll
    void stop() {
        await(engine.close());
        await(vertx.close());
    }

    private ModelKey nextKey(String model) {
        return new ModelKey("tests", model, String.valueOf(++versions));
    }

    private LoadReport load(ModelKey key, StoredArtifact artifact, ModelManifest manifest) {
        return await(engine.load(key, artifact, manifest, PoolConfig.defaults()));
    }

    private ModelRejectedException refusal(StoredArtifact artifact, ModelManifest manifest) {
        Throwable err = failure(engine.load(nextKey("bad"), artifact, manifest, PoolConfig.defaults()));
        return assertInstanceOf(ModelRejectedException.class, err);
    }

    @ParameterizedTest(name = "{0} serves what torch computed for its example")
    @ValueSource(strings = {"digits_mlp", "digits_cnn", "diabetes_regressor", "multi_io", "dtypes",
            "fail_on_poison", "hang_on_poison"})
    void servesWhatTorchComputed(String name) {
        ModelManifest manifest = Fixtures.manifest(name);
        ModelKey key = nextKey(name);
        StoredArtifact artifact = Fixtures.store(store, name + ".pt");
        LoadReport report = load(key, artifact, manifest);
        assertEquals(artifact.sha256(), report.sha256());
        assertEquals(artifact.sizeBytes(), report.sizeBytes());
        assertTrue(report.loadTime().toNanos() > 0);

        InferenceResult result = await(engine.infer(key, new InferenceRequest(manifest.example(),
                List.of(), null)));
        List<Tensor> expected = Fixtures.expectedOutputs(name);
        assertEquals(expected.size(), result.outputs().size());
        for (int i = 0; i < expected.size(); i++) {
            Fixtures.assertClose(expected.get(i), result.outputs().get(i), 1e-5);
        }
        assertEquals(RequestOutcome.SUCCESS, result.facts().outcome());
        assertEquals(manifest.exampleItems(), result.facts().items());
    }

    @Test
    @DisplayName("every datatype keeps its exact values through the engine")
    void datatypesAreExact() {
        ModelKey key = nextKey("dtypes");
        load(key, Fixtures.store(store, "dtypes.pt"), Fixtures.manifest("dtypes"));
        long[] shape = {1, 2};
        InferenceRequest request = InferenceRequest.of(
                Tensor.ofInts("i32", shape, Integer.MIN_VALUE + 5, 41),
                Tensor.ofLongs("i64", shape, Long.MAX_VALUE / 4, -7),
                Tensor.ofUint8("u8", shape, (byte) 255, (byte) 200),
                Tensor.ofBools("flag", shape, true, false),
                Tensor.ofDoubles("f64", shape, 1e-300, -0.75));
        InferenceResult result = await(engine.infer(key, request));
        assertEquals(List.of(Integer.MIN_VALUE + 6, 42),
                Arrays.stream(result.output("i32_out").toInts()).boxed().toList());
        assertEquals(List.of(Long.MAX_VALUE / 4 * 2, -14L),
                Arrays.stream(result.output("i64_out").toLongs()).boxed().toList());
        // uint8 arithmetic wraps: 255 + 1 == 0
        byte[] u8 = result.output("u8_out").toByteArray();
        assertEquals(0, u8[0] & 0xFF);
        assertEquals(201, u8[1] & 0xFF);
        boolean[] flags = result.output("flag_out").toBooleans();
        assertEquals(false, flags[0]);
        assertEquals(true, flags[1]);
        double[] f64 = result.output("f64_out").toDoubles();
        assertEquals(0.5e-300, f64[0]);
        assertEquals(-0.375, f64[1]);
    }

    @Test
    @DisplayName("a multi-input, multi-output model serves each output, and only those asked for")
    void multiInputMultiOutput() {
        ModelKey key = nextKey("multi_io");
        ModelManifest manifest = Fixtures.manifest("multi_io");
        load(key, Fixtures.store(store, "multi_io.pt"), manifest);
        // a sequence length other than the example's: the -1 dimension really is variable
        float[] seq = {1, 2, 3, 4, 5, 6, 7};
        InferenceRequest request = InferenceRequest.of(
                Tensor.ofFloats("x", new long[] {1, 4}, 0, 0, 0, 0),
                Tensor.ofFloats("seq", new long[] {1, 7}, seq));
        InferenceResult both = await(engine.infer(key, request));
        assertEquals(List.of("scores", "seq_sum"), both.outputs().stream().map(Tensor::name).toList());
        assertEquals(28.0, both.output("seq_sum").toDoubles()[0], 1e-9);
        // with x = 0 the scores are the projection's bias plus mean(seq) = 4
        float[] scores = both.output("scores").toFloats();
        float[] bias = biasFromExample(manifest);
        for (int i = 0; i < 3; i++) {
            assertEquals(bias[i] + 4f, scores[i], 1e-5);
        }
        InferenceResult one = await(engine.infer(key, request.withOutputs("seq_sum")));
        assertEquals(List.of("seq_sum"), one.outputs().stream().map(Tensor::name).toList());
    }

    /** scores - mean(seq) for the first example item, minus W x, is the bias; recover it with x = 0. */
    private float[] biasFromExample(ModelManifest manifest) {
        ModelKey key = nextKey("multi_io");
        load(key, Fixtures.store(store, "multi_io.pt"), manifest);
        InferenceResult r = await(engine.infer(key, InferenceRequest.of(
                Tensor.ofFloats("x", new long[] {1, 4}, 0, 0, 0, 0),
                Tensor.ofFloats("seq", new long[] {1, 1}, 0))));
        return r.output("scores").toFloats();
    }

    @Test
    @DisplayName("a torch.save state dict is refused as not TorchScript")
    void refusesStateDict() {
        ModelRejectedException e =
                refusal(Fixtures.store(store, "digits_state_dict.pt"), Fixtures.manifest("digits_mlp"));
        assertEquals(Check.FORMAT, e.check());
        assertTrue(e.getMessage().contains("torch.save"), e.getMessage());
    }

    @Test
    @DisplayName("random bytes are refused as not a zip archive")
    void refusesRandomBytes() throws IOException {
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        noise[0] = 'x';
        ModelRejectedException e = refusal(store.put(new ByteArrayInputStream(noise), 1 << 20),
                Fixtures.manifest("digits_mlp"));
        assertEquals(Check.FORMAT, e.check());
        assertTrue(e.getMessage().contains("not a zip"), e.getMessage());
    }

    @Test
    @DisplayName("a raw pickle is refused as a pickle")
    void refusesRawPickle() throws IOException {
        byte[] pickle = {(byte) 0x80, 2, '}', 'q', 0, '.'};
        ModelRejectedException e = refusal(store.put(new ByteArrayInputStream(pickle), 1 << 20),
                Fixtures.manifest("digits_mlp"));
        assertEquals(Check.FORMAT, e.check());
        assertTrue(e.getMessage().contains("pickle"), e.getMessage());
    }

    @Test
    @DisplayName("a truncated TorchScript file is refused as a corrupt archive")
    void refusesTruncatedFile() throws IOException {
        byte[] whole = Files.readAllBytes(Fixtures.file("digits_mlp.pt"));
        byte[] half = Arrays.copyOf(whole, whole.length / 2);
        ModelRejectedException e = refusal(store.put(new ByteArrayInputStream(half), 1 << 20),
                Fixtures.manifest("digits_mlp"));
        assertEquals(Check.FORMAT, e.check());
        assertTrue(e.getMessage().contains("corrupt or truncated"), e.getMessage());
    }

    @Test
    @DisplayName("a model whose outputs break its manifest is refused on the schema check")
    void refusesSchemaMismatch() {
        ModelRejectedException e = refusal(Fixtures.store(store, "digits_mlp.pt"),
                Fixtures.manifest("digits_mlp_bad_schema"));
        assertEquals(Check.SCHEMA, e.check());
        assertTrue(e.getMessage().contains("probabilities"), e.getMessage());
        assertTrue(e.getMessage().contains("[2, 10]"), e.getMessage());
    }

    @Test
    @DisplayName("an artifact altered on disk after upload is refused on the hash check")
    void refusesAlteredArtifact() throws IOException {
        byte[] bytes = Files.readAllBytes(Fixtures.file("fail_on_poison.pt"));
        StoredArtifact artifact = store.put(new ByteArrayInputStream(bytes), 1 << 20);
        bytes[bytes.length - 1] ^= 1;
        Files.write(artifact.path(), bytes);
        ModelRejectedException e = refusal(artifact, Fixtures.manifest("fail_on_poison"));
        assertEquals(Check.HASH, e.check());
        store.delete(artifact.sha256());
    }

    @Test
    @DisplayName("a model whose example fails is refused on the example check")
    void refusesFailingExample() {
        ModelManifest poisoned = Fixtures.manifest("fail_on_poison");
        ModelManifest manifest = new ModelManifest(poisoned.name(), poisoned.inputs(),
                poisoned.outputs(),
                List.of(Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, -1e7f, 4)));
        ModelRejectedException e = refusal(Fixtures.store(store, "fail_on_poison.pt"), manifest);
        assertEquals(Check.EXAMPLE, e.check());
        assertTrue(e.getMessage().contains("poison value in input"), e.getMessage());
    }

    @Test
    @DisplayName("a refused model is not registered")
    void refusedModelIsNotRegistered() {
        ModelKey key = nextKey("bad");
        failure(engine.load(key, Fixtures.store(store, "digits_state_dict.pt"),
                Fixtures.manifest("digits_mlp"), PoolConfig.defaults()));
        assertTrue(engine.status(key).isEmpty());
        assertInstanceOf(ModelNotLoadedException.class, failure(engine.infer(key,
                InferenceRequest.of(Fixtures.manifest("digits_mlp").example().get(0)))));
    }
}
