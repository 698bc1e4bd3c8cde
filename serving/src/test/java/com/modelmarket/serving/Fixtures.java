package com.modelmarket.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The TorchScript fixtures made by {@code serving/fixtures/make_fixtures.py}, and test helpers. */
final class Fixtures {

    static final Path DIR = Path.of(System.getProperty("modelmarket.fixtures", "fixtures"));

    private Fixtures() {}

    static Path file(String name) {
        return DIR.resolve(name);
    }

    static JsonObject json(String name) {
        try {
            return new JsonObject(Files.readString(file(name + ".json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ModelManifest manifest(String name) {
        return ModelManifest.fromJson(json(name));
    }

    /** What torch computed for the manifest's example when the fixture was made. */
    static List<Tensor> expectedOutputs(String name) {
        JsonArray arr = json(name).getJsonArray("expected_outputs");
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            out.add(Tensor.fromJson(arr.getJsonObject(i)));
        }
        return out;
    }

    static StoredArtifact store(ModelStore store, String fileName) {
        try (InputStream in = Files.newInputStream(file(fileName))) {
            return store.put(in, 10 << 20);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The failure of a future that must fail. */
    static Throwable failure(Future<?> future) {
        try {
            future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
        throw new AssertionError("expected a failure, the future succeeded");
    }

    /** Waits for a future and returns its failure, or null if it succeeded. */
    static Throwable errorOf(Future<?> future) {
        try {
            future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Same name, type and shape, and every element within {@code tolerance}. */
    static void assertClose(Tensor expected, Tensor actual, double tolerance) {
        assertEquals(expected.name(), actual.name());
        assertEquals(expected.datatype(), actual.datatype(), expected.name());
        assertArrayEquals(expected.shape(), actual.shape(), expected.name());
        for (int i = 0; i < expected.elementCount(); i++) {
            double e = expected.getAsDouble(i);
            double a = actual.getAsDouble(i);
            if (Math.abs(e - a) > tolerance) {
                throw new AssertionError(expected.name() + "[" + i + "]: expected " + e + ", got " + a);
            }
        }
    }
}
