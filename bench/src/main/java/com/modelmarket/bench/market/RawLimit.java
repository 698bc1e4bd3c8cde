package com.modelmarket.bench.market;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import com.modelmarket.serving.model.TorchRuntime;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The limit: one DJL predictor called in a tight loop, no HTTP, no queue, one PyTorch thread (as
 * each server worker has), at several batch sizes. It runs in its own JVM, pinned to the cores the
 * servers get, and prints one JSON line; {@link #measure} starts it and reads that line.
 */
public final class RawLimit {

    /**
     * One batch size.
     *
     * @param p50Ms median time of one call (input copy, forward pass, output copy)
     */
    record Point(int batch, double itemsPerSecond, double p50Ms, double meanMs) {
    }

    /** A model's sweep; {@link #best()} is the limit, batch 1 the single-item predict time. */
    record Result(String kind, List<Point> points, String pytorch, String djl) {

        Point best() {
            return points.stream().max(java.util.Comparator.comparingDouble(Point::itemsPerSecond)).orElseThrow();
        }

        Point single() {
            return points.stream().filter(p -> p.batch() == 1).findFirst().orElse(points.get(0));
        }

        JsonObject toJson() {
            JsonArray list = new JsonArray();
            points.forEach(p -> list.add(new JsonObject().put("batch", p.batch()).put("itemsPerSecond", p.itemsPerSecond())
                    .put("p50Ms", p.p50Ms()).put("meanMs", p.meanMs())));
            return new JsonObject().put("kind", kind).put("points", list).put("pytorch", pytorch).put("djl", djl);
        }
    }

    private RawLimit() {
    }

    /** Runs the sweep for {@code model} in a child JVM pinned to {@code cpus}. */
    static Result measure(BenchModel model, boolean randomItem, String cpus, List<Integer> batches, double warmupSeconds,
                          double seconds, Path runDir) throws IOException, InterruptedException {
        List<String> command = List.of(ManagedProcess.javaCommand(), "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), RawLimit.class.getName(),
                model.artifact().getParent().toString(), model.name(), Boolean.toString(randomItem),
                batches.stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse("1"),
                Double.toString(warmupSeconds), Double.toString(seconds));
        Path log = runDir.resolve("raw-" + model.name() + ".log");
        ManagedProcess child = new ManagedProcess("raw " + model.name(), cpus, command, Map.of(), log);
        long limitSeconds = (long) ((warmupSeconds + seconds) * batches.size()) + 120;
        if (!child.raw().waitFor(limitSeconds, java.util.concurrent.TimeUnit.SECONDS)) {
            child.close();
            throw new IllegalStateException("the raw loop of " + model.name() + " did not finish; see " + log);
        }
        String last = Files.readAllLines(log).stream().filter(l -> l.startsWith("{\"points\"")).reduce((a, b) -> b)
                .orElseThrow(() -> new IllegalStateException("the raw loop of " + model.name() + " failed; see " + log));
        JsonObject json = new JsonObject(last);
        List<Point> points = new ArrayList<>();
        for (Object o : json.getJsonArray("points")) {
            JsonObject p = (JsonObject) o;
            points.add(new Point(p.getInteger("batch"), p.getDouble("itemsPerSecond"), p.getDouble("p50Ms"),
                    p.getDouble("meanMs")));
        }
        return new Result(model.kind(), points, json.getString("pytorch"), json.getString("djl"));
    }

    /** Child side: {@code modelsDir name randomItem batches warmupSeconds seconds}. */
    public static void main(String[] args) throws Exception {
        BenchModel model = BenchModel.load(Path.of(args[0]), args[1], args[1], "", Boolean.parseBoolean(args[2]));
        List<Integer> batches = Arrays.stream(args[3].split(",")).map(Integer::valueOf).toList();
        long warmup = (long) (Double.parseDouble(args[4]) * 1e9);
        long measure = (long) (Double.parseDouble(args[5]) * 1e9);
        Engine engine = TorchRuntime.start(1, 1, false);
        JsonArray points = new JsonArray();
        try (Model m = Model.newInstance(model.name(), Device.cpu(), "PyTorch")) {
            m.load(model.artifact(), null, Map.of("mapLocation", "true"));
            try (Predictor<NDList, NDList> predictor = m.newPredictor(new NoopTranslator())) {
                for (int batch : batches) {
                    points.add(sweepPoint(m, predictor, model, batch, warmup, measure));
                    System.err.println("raw " + model.name() + " " + points.getJsonObject(points.size() - 1).encode());
                }
            }
        }
        System.out.println(new JsonObject().put("points", points).put("pytorch", engine.getVersion())
                .put("djl", Engine.getDjlVersion()).encode());
    }

    private static JsonObject sweepPoint(Model m, Predictor<NDList, NDList> predictor, BenchModel model, int batch,
                                         long warmup, long measure) throws Exception {
        float[] data = new float[model.item().length * batch];
        for (int i = 0; i < batch; i++) {
            System.arraycopy(model.item(), 0, data, i * model.item().length, model.item().length);
        }
        long[] dims = model.itemShape().clone();
        dims[0] = batch;
        Shape shape = new Shape(dims);
        Histogram latency = new Histogram(60_000_000_000L, 3);
        long start = System.nanoTime();
        long from = start + warmup;
        long end = from + measure;
        long calls = 0;
        for (long now = System.nanoTime(); now < end; now = System.nanoTime()) {
            try (NDManager arrays = m.getNDManager().newSubManager()) {
                NDList out = predictor.predict(new NDList(arrays.create(data, shape)));
                out.get(0).toByteArray();
            }
            long done = System.nanoTime();
            if (now >= from) {
                latency.recordValue(Math.min(60_000_000_000L, done - now));
                calls++;
            }
        }
        double seconds = (System.nanoTime() - from) / 1e9;
        return new JsonObject().put("batch", batch).put("itemsPerSecond", calls * batch / seconds)
                .put("p50Ms", latency.getValueAtPercentile(50) / 1e6).put("meanMs", latency.getMean() / 1e6);
    }
}
