package com.modelmarket.bench;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.RequestOutcome;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.ServingConfig;
import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.engine.DjlServingEngine;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Scenario 1, "pool vs raw": one model served through the engine's worker pool with dynamic
 * batching off and on (closed-loop clients on the event loop, one item per request), against a
 * raw DJL predictor loop. Prints items/s, items per forward pass and client latency.
 *
 * <p>Arguments (all optional): {@code --fixtures DIR} {@code --models a,b} {@code --clients N}
 * {@code --seconds S} {@code --warmup S} {@code --batch N} {@code --delay-ms D} {@code --timeout-ms T}
 * (request deadline, 0 for none) {@code --modes raw,pool} {@code --rounds R} (the median is reported)
 * {@code --native-transport true|false} (Netty epoll for the event loop).
 */
public final class ServingBench {

    private record Options(Path fixtures, List<String> models, int clients, Duration warmup,
            Duration measure, int maxBatch, Duration batchDelay, Duration timeout, List<String> modes,
            boolean nativeTransport, int rounds) {}

    /** One line of the result table. */
    private record Row(String model, String mode, double itemsPerSecond, double itemsPerBatch,
            double msPerPass, double p50Ms, double p99Ms) {}

    /** Where the engine's request facts go while a pool mode runs. */
    private static volatile Consumer<RequestFacts> collector = facts -> { };

    private ServingBench() {}

    public static void main(String[] args) throws Exception {
        Options options = parse(args);
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(options.nativeTransport()));
        DjlServingEngine engine =
                new DjlServingEngine(vertx, ServingConfig.defaults(), new SimpleMeterRegistry());
        Path data = Files.createTempDirectory("modelmarket-bench");
        ModelStore store = new ModelStore(data);
        engine.addRequestListener(facts -> collector.accept(facts));
        System.out.printf(Locale.ROOT, "ModelMarket serving bench, %s: %d cores, Java %s, %s%n",
                LocalDate.now(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), System.getProperty("os.arch"));
        System.out.printf(Locale.ROOT, "%d clients, %d s warm-up + %d s measured per mode, median of %d rounds;"
                + " pool: 2 workers x 1 intra-op thread, batching on = up to %d items / %d ms%n%n",
                options.clients(), options.warmup().toSeconds(), options.measure().toSeconds(),
                options.rounds(), options.maxBatch(), options.batchDelay().toMillis());
        Map<String, List<Row>> byMode = new LinkedHashMap<>();
        for (int round = 1; round <= options.rounds(); round++) {
            for (String name : options.models()) {
                ModelManifest manifest = ModelManifest.fromJson(new JsonObject(
                        Files.readString(options.fixtures().resolve(name + ".json"))));
                StoredArtifact artifact;
                try (InputStream in = Files.newInputStream(options.fixtures().resolve(name + ".pt"))) {
                    artifact = store.put(in, 100L << 20);
                }
                Tensor item = manifest.example().get(0).slice(0, 1);
                List<Row> rows = new ArrayList<>();
                if (options.modes().contains("raw")) {
                    rows.add(raw(name, artifact, item, 1, 1, options));
                    rows.add(raw(name, artifact, item, 2, 1, options));
                    rows.add(raw(name, artifact, item, 1, options.maxBatch(), options));
                }
                if (options.modes().contains("pool")) {
                    PoolConfig base = PoolConfig.defaults().withWorkers(2, 2).withMaxQueue(4096)
                            .withDefaultTimeout(options.timeout());
                    rows.add(pool(vertx, engine, new ModelKey("tests", name, "off-" + round), artifact, manifest, item,
                            base.withBatching(1, Duration.ZERO), "pool, batching off", options));
                    rows.add(pool(vertx, engine, new ModelKey("tests", name, "on-" + round), artifact, manifest, item,
                            base.withBatching(options.maxBatch(), options.batchDelay()), "pool, batching on",
                            options));
                }
                for (Row r : rows) {
                    byMode.computeIfAbsent(r.model() + "\t" + r.mode(), k -> new ArrayList<>()).add(r);
                    System.err.printf(Locale.ROOT, "round %d: %s %s %.0f items/s%n", round, r.model(), r.mode(),
                            r.itemsPerSecond());
                }
            }
        }
        System.out.printf(Locale.ROOT, "%-12s %-38s %9s %10s %9s %8s %8s   %s%n", "model", "mode",
                "items/s", "items/pass", "ms/pass", "p50 ms", "p99 ms", "items/s of each round");
        for (List<Row> runs : byMode.values()) {
            List<Row> sorted = new ArrayList<>(runs);
            sorted.sort(Comparator.comparingDouble(Row::itemsPerSecond));
            Row r = sorted.get(sorted.size() / 2);
            String each = runs.stream().map(x -> String.format(Locale.ROOT, "%.0f", x.itemsPerSecond()))
                    .collect(Collectors.joining(" "));
            System.out.printf(Locale.ROOT, "%-12s %-38s %9.0f %10.1f %9.3f %8.2f %8.2f   %s%n", r.model(),
                    r.mode(), r.itemsPerSecond(), r.itemsPerBatch(), r.msPerPass(), r.p50Ms(), r.p99Ms(), each);
        }
        engine.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    /** A DJL predictor per thread, called in a loop with {@code batch} copies of the item. */
    private static Row raw(String name, StoredArtifact artifact, Tensor item, int threads,
            int batch, Options options) throws Exception {
        if (item.datatype() != DataType.FP32) {
            throw new IllegalArgumentException("the raw loop feeds FP32 inputs only");
        }
        float[] one = item.toFloats();
        float[] data = new float[one.length * batch];
        for (int i = 0; i < batch; i++) {
            System.arraycopy(one, 0, data, i * one.length, one.length);
        }
        long[] dims = item.shape();
        dims[0] = batch;
        Shape shape = new Shape(dims);
        try (Model model = Model.newInstance(name, Device.cpu(), "PyTorch")) {
            model.load(artifact.path());
            long start = System.nanoTime();
            long measureFrom = start + options.warmup().toNanos();
            long end = measureFrom + options.measure().toNanos();
            LongAdder items = new LongAdder();
            long[][] latencies = new long[threads][1 << 21];
            int[] counts = new int[threads];
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int me = t;
                Thread thread = new Thread(() -> {
                    long[] mine = latencies[me];
                    int n = 0;
                    try (Predictor<NDList, NDList> predictor = model.newPredictor(new NoopTranslator())) {
                        for (long now = System.nanoTime(); now < end; now = System.nanoTime()) {
                            try (NDManager arrays = model.getNDManager().newSubManager()) {
                                NDList out = predictor.predict(new NDList(arrays.create(data, shape)));
                                out.get(0).toByteArray();
                            }
                            long done = System.nanoTime();
                            if (now >= measureFrom && done <= end) {
                                items.add(batch);
                                if (n < mine.length) {
                                    mine[n++] = done - now;
                                }
                            }
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    counts[me] = n;
                });
                workers.add(thread);
                thread.start();
            }
            for (Thread thread : workers) {
                thread.join();
            }
            long[] all = java.util.stream.IntStream.range(0, threads)
                    .mapToObj(t -> Arrays.stream(latencies[t], 0, counts[t]))
                    .flatMapToLong(x -> x).sorted().toArray();
            String mode = "raw predictor, " + threads + " thread" + (threads > 1 ? "s" : "")
                    + ", " + batch + " item" + (batch > 1 ? "s" : "") + "/call";
            double meanMs = Arrays.stream(all).average().orElse(Double.NaN) / 1e6;
            return new Row(name, mode, items.sum() / seconds(options.measure()), batch, meanMs,
                    percentile(all, 0.50), percentile(all, 0.99));
        }
    }

    /** Closed-loop clients on the event loop, one single-item request each at a time. */
    private static Row pool(Vertx vertx, DjlServingEngine engine, ModelKey key,
            StoredArtifact artifact, ModelManifest manifest, Tensor item, PoolConfig config,
            String mode, Options options) throws Exception {
        engine.load(key, artifact, manifest, config).toCompletionStage().toCompletableFuture()
                .get(60, TimeUnit.SECONDS);
        InferenceRequest request = InferenceRequest.of(item);
        long start = System.nanoTime();
        long measureFrom = start + options.warmup().toNanos();
        long end = measureFrom + options.measure().toNanos();
        LongAdder items = new LongAdder();
        Set<Long> batches = ConcurrentHashMap.newKeySet();
        LongAdder computeNanos = new LongAdder();
        collector = f -> {
            if (f.model().equals(key) && f.outcome() == RequestOutcome.SUCCESS) {
                long now = System.nanoTime();
                if (now >= measureFrom && now <= end) {
                    batches.add(f.batchId());
                    computeNanos.add(f.computeNanos());
                }
            }
        };
        // every client runs on the one event-loop context that starts it: no races on these
        long[] latencies = new long[1 << 21];
        int[] recorded = new int[1];
        CountDownLatch finished = new CountDownLatch(options.clients());
        Runnable[] clients = new Runnable[options.clients()];
        for (int c = 0; c < clients.length; c++) {
            Runnable[] self = new Runnable[1];
            self[0] = () -> {
                long sent = System.nanoTime();
                if (sent >= end) {
                    finished.countDown();
                    return;
                }
                engine.infer(key, request).onComplete(ar -> {
                    long done = System.nanoTime();
                    if (ar.failed()) {
                        throw new IllegalStateException(ar.cause());
                    }
                    if (sent >= measureFrom && done <= end) {
                        items.increment();
                        if (recorded[0] < latencies.length) {
                            latencies[recorded[0]++] = done - sent;
                        }
                    }
                    self[0].run();
                });
            };
            clients[c] = self[0];
        }
        vertx.runOnContext(v -> Arrays.stream(clients).forEach(Runnable::run));
        if (!finished.await(options.warmup().plus(options.measure()).toSeconds() + 60,
                TimeUnit.SECONDS)) {
            throw new IllegalStateException("clients did not finish");
        }
        engine.unload(key).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        long[] sorted = Arrays.stream(latencies, 0, recorded[0]).sorted().toArray();
        double perBatch = batches.isEmpty() ? 0 : (double) items.sum() / batches.size();
        double msPerPass = batches.isEmpty() ? 0 : computeNanos.sum() / 1e6 / batches.size();
        return new Row(key.model(), mode, items.sum() / seconds(options.measure()), perBatch,
                msPerPass, percentile(sorted, 0.50), percentile(sorted, 0.99));
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    private static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1e6;
    }

    private static Options parse(String[] args) {
        Path fixtures = Files.isDirectory(Path.of("serving/fixtures"))
                ? Path.of("serving/fixtures")
                : Path.of("../serving/fixtures");
        List<String> models = List.of("digits_mlp", "digits_cnn");
        int clients = 32;
        int warmup = 2;
        int seconds = 5;
        int batch = 32;
        int delayMs = 2;
        long timeoutMs = 30_000;
        List<String> modes = List.of("raw", "pool");
        boolean nativeTransport = true;
        int rounds = 3;
        for (int i = 0; i + 1 < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--fixtures" -> fixtures = Path.of(value);
                case "--models" -> models = List.of(value.split(","));
                case "--clients" -> clients = Integer.parseInt(value);
                case "--warmup" -> warmup = Integer.parseInt(value);
                case "--seconds" -> seconds = Integer.parseInt(value);
                case "--batch" -> batch = Integer.parseInt(value);
                case "--delay-ms" -> delayMs = Integer.parseInt(value);
                case "--timeout-ms" -> timeoutMs = Long.parseLong(value);
                case "--modes" -> modes = List.of(value.split(","));
                case "--native-transport" -> nativeTransport = Boolean.parseBoolean(value);
                case "--rounds" -> rounds = Integer.parseInt(value);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        return new Options(fixtures, models, clients, Duration.ofSeconds(warmup),
                Duration.ofSeconds(seconds), batch, Duration.ofMillis(delayMs), Duration.ofMillis(timeoutMs),
                modes, nativeTransport, rounds);
    }
}
