package com.modelmarket.bench.market;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scenario 2, "the marketplace against its limit": in one run on one machine, a raw DJL
 * predictor loop (the limit), the HTTP ceiling ({@code GET /api/v1/key-info}), the marketplace
 * serving real inference with API keys, entitlement and metering (batching on, batching off,
 * metering off) and a plain FastAPI + PyTorch peer, under closed-loop and open-loop load. Writes
 * {@code bench/runs/<time>/results.{json,md}} and the generated block of {@code docs/benchmarks.md}.
 * Start it with {@code bench/run.sh}, which builds everything and pins this JVM to its core.
 */
public final class MarketBench {

    /** Server variants: the name in the report and the settings that make it. */
    private static final Map<String, Map<String, String>> VARIANTS = new LinkedHashMap<>();

    static {
        VARIANTS.put("on", Map.of());
        VARIANTS.put("off", Map.of("MM_SERVING_MAX_BATCH_SIZE", "1"));
        VARIANTS.put("nometer", Map.of("MM_METERING_ENABLED", "false"));
    }

    private static final Map<String, String> NAMES = Map.of("on", "batching on", "off", "batching off",
            "nometer", "metering off", "peer", "peer");

    private final BenchOptions options;
    private final Path runDir;
    private final Vertx vertx;
    private final LoadGenerator load;
    private final Report report = new Report();
    private final List<BenchModel> models = new ArrayList<>();
    private final Map<String, ServerProcess> servers = new LinkedHashMap<>();
    private final Map<String, String> apiKeys = new LinkedHashMap<>();
    private PeerProcess peer;

    private MarketBench(BenchOptions options, Path runDir, Vertx vertx) {
        this.options = options;
        this.runDir = runDir;
        this.vertx = vertx;
        this.load = new LoadGenerator(vertx);
    }

    public static void main(String[] args) throws Exception {
        BenchOptions options = BenchOptions.parse(args);
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
        Path runDir = Files.createDirectories(options.repo().resolve("bench/runs/" + stamp));
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        try {
            MarketBench bench = new MarketBench(options, runDir, vertx);
            bench.report.options = args.length == 0 ? "(defaults)" : String.join(" ", args);
            bench.run();
        } finally {
            Http.await(vertx.close(), "closing Vert.x");
        }
    }

    private void run() throws Exception {
        report.started = DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        report.loadBefore = Machine.loadAverage();
        report.machine.mergeIn(Machine.describe(options.serverJar().resolveSibling("lib"))).put("serverCpus", options.serverCpus())
                .put("serverJvm", String.join(" ", options.serverJvmOptions()))
                .put("serverJar", options.repo().relativize(options.serverJar()).toString());
        models.add(BenchModel.load(options.modelsDir(), "digits_mlp", "digits-mlp", "light", false));
        models.add(BenchModel.load(options.modelsDir(), "resnet18", "resnet18", "heavy", true));
        log("run directory %s; load average %s", runDir, report.loadBefore);
        if (options.phases().contains("raw")) {
            rawLimits();
        }
        long busy0 = Machine.busyNanos();
        long ours0 = Machine.ourNanos(List.of());
        long t0 = System.nanoTime();
        try {
            startSystems();
            if (options.phases().contains("keyinfo") && servers.containsKey("on")) {
                for (int clients : options.clients()) {
                    closed(servers.get("on"), "batching on", "key-info", LoadTarget.get("/api/v1/key-info",
                            apiKeys.get("on")), clients);
                }
            }
            if (options.phases().contains("closed")) {
                closedLoops();
            }
            if (options.phases().contains("open")) {
                openLoops();
            }
            if (options.phases().contains("profile") && servers.containsKey("on")) {
                profiles();
            }
            if (options.phases().contains("overload") && servers.containsKey("on")) {
                overload();
            }
            if (options.phases().contains("raw")) {
                rawAgain();
            }
            List<ProcessHandle> databases = servers.values().stream().flatMap(s -> s.helpers().stream()).toList();
            report.othersCpuCores = ((Machine.busyNanos() - busy0) - (Machine.ourNanos(databases) - ours0))
                    / (double) (System.nanoTime() - t0);
        } finally {
            stopSystems();
        }
        report.finished = DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        report.loadAfter = Machine.loadAverage();
        Files.writeString(runDir.resolve("results.json"), report.json().encodePrettily());
        String markdown = report.markdown();
        Files.writeString(runDir.resolve("results.md"), markdown);
        System.out.println(markdown);
        if (options.writeDocs()) {
            report.writeDocs(options.docs());
            log("results written to %s and %s", options.docs(), runDir);
        }
    }

    private void rawLimits() throws Exception {
        for (BenchModel m : models) {
            boolean heavy = m.kind().equals("heavy");
            List<Integer> batches = heavy ? List.of(1, 2, 4, 8) : List.of(1, 4, 16, 32, 64, 128, 256, 512);
            double seconds = heavy ? options.rawSeconds() * 2.5 : options.rawSeconds();
            RawLimit.Result r = RawLimit.measure(m, heavy, options.serverCpus(), batches, seconds / 2, seconds, runDir);
            report.raw.put(m.kind(), r);
            log("raw %s: limit %.0f items/s at batch %d; single item %.3f ms", m.kind(), r.best().itemsPerSecond(),
                    r.best().batch(), r.single().p50Ms());
        }
    }

    /**
     * The limit again, at the end, at batch 1 and the best batch of the first sweep, with every
     * server idle: the machine's speed drifts over a run, and the report takes the higher limit
     * and the lower single-item time of the two.
     */
    private void rawAgain() throws Exception {
        awaitQuiet();
        for (BenchModel m : models) {
            RawLimit.Result first = report.raw.get(m.kind());
            if (first == null) {
                continue;
            }
            boolean heavy = m.kind().equals("heavy");
            double seconds = heavy ? options.rawSeconds() * 2.5 : options.rawSeconds();
            List<Integer> batches = first.best().batch() == 1 ? List.of(1) : List.of(1, first.best().batch());
            RawLimit.Result again = RawLimit.measure(m, heavy, options.serverCpus(), batches, seconds / 2, seconds, runDir);
            report.rawEnd.put(m.kind(), again);
            log("raw %s again: %.0f items/s at batch %d; single item %.3f ms", m.kind(), again.best().itemsPerSecond(),
                    again.best().batch(), again.single().p50Ms());
        }
    }

    private void startSystems() throws Exception {
        for (String variant : VARIANTS.keySet()) {
            if (options.systems().contains(variant)) {
                servers.put(variant, ServerProcess.start(NAMES.get(variant), options.serverJar(), runDir,
                        options.serverCpus(), VARIANTS.get(variant), options.serverJvmOptions()));
                report.serverSettings.put(NAMES.get(variant), VARIANTS.get(variant));
            }
        }
        if (options.systems().contains("peer")) {
            peer = PeerProcess.start(options.peerScript(), runDir, options.serverCpus(), models);
        }
        for (Map.Entry<String, ServerProcess> e : servers.entrySet()) {
            e.getValue().awaitReady(vertx);
            try (Http http = new Http(vertx, e.getValue().port())) {
                apiKeys.put(e.getKey(), MarketSetup.prepare(http, models));
            }
            log("%s ready on port %d (pid %d)", e.getValue().name(), e.getValue().port(), e.getValue().process().pid());
        }
        if (peer != null) {
            peer.awaitReady(vertx);
            report.peerVersions = peer.versions(vertx);
            log("peer ready on port %d: %s", peer.port(), report.peerVersions.encode());
        }
        for (String scenario : scenarios()) {
            for (SystemUnderTest sut : systems()) {
                check(sut, scenario);
            }
        }
        if (!options.serverWarmup().isZero()) {
            for (SystemUnderTest sut : systems()) {
                warmUp(sut);
            }
        }
    }

    /**
     * Unmeasured load until the JIT has compiled the paths the runs take (on one core, C2 keeps
     * compiling for tens of seconds and takes CPU from the server's own threads): per light
     * scenario twice the warm-up at 64 clients and once at 1 client; per heavy scenario once at 16.
     */
    private void warmUp(SystemUnderTest sut) {
        Duration w = options.serverWarmup();
        for (String scenario : scenarios()) {
            LoadTarget t = target(sut, scenario);
            awaitQuiet();
            if (scenario.startsWith("light")) {
                load.closed(sut, scenario, t, 64, Duration.ZERO, w.multipliedBy(2));
                load.closed(sut, scenario, t, 1, Duration.ZERO, w);
            } else {
                load.closed(sut, scenario, t, 16, Duration.ZERO, w);
            }
        }
        log("%s warmed up (not measured)", sut.name());
    }

    /**
     * Waits until every system is idle (under 10 % of a core over 500 ms), at most two minutes: a
     * server may still be working off a queue its last clients left behind, and all of them share
     * the same cores.
     */
    private void awaitQuiet() {
        long until = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < until) {
            long before = systemsCpuNanos();
            long t0 = System.nanoTime();
            ManagedProcess.sleep(500);
            double cores = (systemsCpuNanos() - before) / (double) (System.nanoTime() - t0);
            if (cores < 0.1) {
                return;
            }
        }
        log("systems still busy after 2 minutes; measuring anyway");
    }

    private long systemsCpuNanos() {
        long sum = 0;
        for (SystemUnderTest sut : systems()) {
            ProcessCpu.Snapshot s = ProcessCpu.snapshot(sut.process(), sut.helpers());
            sum += s.processNanos() + s.childrenNanos();
        }
        return sum;
    }

    /** One request of each kind to each system, answered as asked (this also loads the models: cold starts happen here). */
    private void check(SystemUnderTest sut, String scenario) {
        BenchModel m = model(scenario);
        LoadTarget t = target(sut, scenario);
        try (Http http = new Http(vertx, sut.port())) {
            String problem = m.problemWith(http.send(t.method(), t.uri(), null, t.headers(), t.body()), encoding(scenario));
            if (problem != null) {
                throw new IllegalStateException(sut.name() + ", " + scenario + ": " + problem);
            }
        }
    }

    private void closedLoops() {
        for (String scenario : scenarios()) {
            for (int clients : options.clients()) {
                for (SystemUnderTest sut : systems()) {
                    closed(sut, sut.name(), scenario, target(sut, scenario), clients);
                }
            }
        }
    }

    private LoadResult closed(SystemUnderTest sut, String system, String scenario, LoadTarget target, int clients) {
        awaitQuiet();
        LoadResult r = load.closed(sut, scenario, target, clients, options.warmup(scenario), options.measure(scenario));
        report.closed.add(r);
        log("%-13s %-13s %3d clients: %8.1f req/s  p50 %7.2f ms  p99 %7.2f ms  items/pass %4.1f  cpu %.2f+%.2f ms/req %s",
                system, scenario, clients, r.requestsPerSecond(), r.p50Ms(), r.p99Ms(), r.itemsPerPass(),
                r.serverCpuMsPerRequest(), r.childCpuMsPerRequest(), r.statuses().isEmpty() ? "" : r.statuses());
        log("    server threads, CPU ms per request: %s", r.threadCpuMs().entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(6)
                .map(e -> String.format(Locale.ROOT, "%s %.3f", e.getKey(), e.getValue() / Math.max(1, r.ok())))
                .collect(java.util.stream.Collectors.joining(", ")));
        return r;
    }

    private void openLoops() {
        ServerProcess on = servers.get("on");
        if (on == null) {
            return;
        }
        for (String scenario : openScenarios()) {
            double best = best("batching on", scenario);
            report.openBest.put(on.name() + "/" + scenario, best);
            for (double fraction : options.openFractions()) {
                awaitQuiet();
                LoadResult r = load.open(on, scenario, target(on, scenario), fraction * best,
                        options.clients().stream().mapToInt(Integer::intValue).max().orElse(64), options.warmup(scenario),
                        options.openMeasure());
                report.open.add(r);
                log("open %-13s %6.1f/s offered: %8.1f answered/s  p50 %7.2f ms  p99 %7.2f ms  p99.9 %7.2f ms %s",
                        scenario, r.offeredPerSecond(), r.requestsPerSecond(), r.p50Ms(), r.p99Ms(), r.p999Ms(),
                        r.statuses().isEmpty() ? "" : r.statuses());
            }
        }
    }

    /**
     * Profiles of batching on for every scenario (light at 64 clients, heavy at 16), and of metering
     * off for the light one, so that what metering costs shows as the difference of two profiles.
     */
    private void profiles() throws Exception {
        List<String[]> runs = new ArrayList<>();
        for (String scenario : scenarios()) {
            boolean light = scenario.startsWith("light");
            int clients = light ? 64 : 16;
            if (options.clients().contains(clients)) {
                runs.add(new String[] {"on", scenario, Integer.toString(clients)});
                if (light && servers.containsKey("nometer")) {
                    runs.add(new String[] {"nometer", scenario, Integer.toString(clients)});
                }
            }
        }
        for (String[] run : runs) {
            ServerProcess server = servers.get(run[0]);
            String label = server.name() + ", " + run[1] + ", " + run[2] + " clients";
            Path file = runDir.resolve("profile-" + ServerProcess.slug(label) + ".jfr");
            awaitQuiet();
            JfrProfile.start(server, file);
            LoadResult r;
            try {
                // starting a recording deoptimises compiled code: warm up again, longer, under the recorder
                Duration warmup = options.warmup(run[1]).plusSeconds(10);
                r = load.closed(server, run[1], target(server, run[1]), Integer.parseInt(run[2]), warmup,
                        options.measure(run[1]));
            } finally {
                JfrProfile.stop(server);
            }
            report.profiledRuns.add(r);
            report.profiles.add(JfrProfile.summarise(label, file));
            log("profiled %s: %s", label, report.profiles.get(report.profiles.size() - 1).categories());
        }
    }

    private void overload() {
        ServerProcess on = servers.get("on");
        String scenario = openScenarios().stream().filter(s -> s.startsWith("heavy")).findFirst().orElse(scenarios().get(0));
        double sustained = best("batching on", scenario);
        awaitQuiet();
        report.overload = OverloadTest.run(load, on, scenario, target(on, scenario), sustained, options);
        log("overload %s: %s", scenario, report.overload.overload().statuses());
    }

    private void stopSystems() {
        servers.values().forEach(s -> report.serverGc.put(s.name(), s.gcSummary()));
        if (peer != null) {
            peer.stop(Duration.ofSeconds(10));
        }
        servers.values().forEach(s -> s.stop(Duration.ofSeconds(60)));
        servers.values().forEach(ServerProcess::deleteData);
    }

    // ----------------------------------------------------------------------------------------- helpers

    private List<SystemUnderTest> systems() {
        List<SystemUnderTest> all = new ArrayList<>(servers.values());
        if (peer != null) {
            all.add(peer);
        }
        return all;
    }

    /** {@code light json}, {@code heavy json}, {@code heavy binary}: a model and a body encoding. */
    private List<String> scenarios() {
        List<String> all = new ArrayList<>();
        options.lightEncodings().forEach(e -> all.add("light " + e));
        options.heavyEncodings().forEach(e -> all.add("heavy " + e));
        return all;
    }

    /** The open loop runs the light model's first encoding and the heavy model's last (binary by default). */
    private List<String> openScenarios() {
        List<String> all = new ArrayList<>();
        if (!options.lightEncodings().isEmpty()) {
            all.add("light " + options.lightEncodings().get(0));
        }
        if (!options.heavyEncodings().isEmpty()) {
            all.add("heavy " + options.heavyEncodings().get(options.heavyEncodings().size() - 1));
        }
        return all;
    }

    private double best(String system, String scenario) {
        return report.closed.stream().filter(r -> r.system().equals(system) && r.scenario().equals(scenario))
                .mapToDouble(LoadResult::requestsPerSecond).max().orElse(1);
    }

    private BenchModel model(String scenario) {
        String kind = scenario.split(" ")[0];
        return models.stream().filter(m -> m.kind().equals(kind)).findFirst().orElseThrow();
    }

    private static BenchModel.Encoding encoding(String scenario) {
        return BenchModel.Encoding.valueOf(scenario.split(" ")[1].toUpperCase(Locale.ROOT));
    }

    private LoadTarget target(SystemUnderTest sut, String scenario) {
        String key = sut instanceof ServerProcess s ? apiKeys.get(variantOf(s)) : null;
        return model(scenario).inferTarget(key, encoding(scenario));
    }

    private String variantOf(ServerProcess server) {
        return servers.entrySet().stream().filter(e -> e.getValue() == server).map(Map.Entry::getKey).findFirst()
                .orElseThrow();
    }

    private static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "[%tT] " + format + "%n", prepend(java.time.LocalTime.now(), args));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
