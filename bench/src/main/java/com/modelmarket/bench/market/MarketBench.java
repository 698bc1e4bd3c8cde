package com.modelmarket.bench.market;

import static com.modelmarket.bench.market.BenchLog.log;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scenario 2, "the marketplace against its limit": in one run on one machine, a raw DJL
 * predictor loop (the limit), the HTTP ceiling ({@code GET /api/v1/key-info}), the marketplace
 * serving real inference with API keys, entitlement and metering (batching on, batching off,
 * metering off) and a plain FastAPI + PyTorch peer, under closed-loop and open-loop load. Writes
 * {@code bench/runs/<time>/results.{json,md}} and the generated block of {@code docs/benchmarks.md}.
 * Start it with {@code bench/market.sh}, which builds everything and pins this JVM to its core.
 *
 * <p>This class runs the phases in order; {@link BenchSystems} starts, checks, warms up and stops
 * the systems under test, and {@link BenchScenarios} names what the load asks for.
 */
public final class MarketBench {

    private final BenchOptions options;
    private final Path runDir;
    private final LoadGenerator load;
    private final Report report = new Report();
    private final List<BenchModel> models = new ArrayList<>();
    private final BenchScenarios scenarios;
    private final BenchSystems systems;

    private MarketBench(BenchOptions options, Path runDir, Vertx vertx) {
        this.options = options;
        this.runDir = runDir;
        this.load = new LoadGenerator(vertx);
        this.scenarios = new BenchScenarios(options, models);
        this.systems = new BenchSystems(options, runDir, vertx, load, report, models, scenarios);
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
            systems.start();
            if (options.phases().contains("keyinfo") && systems.has("on")) {
                for (int clients : options.clients()) {
                    closed(systems.server("on"), "batching on", "key-info", LoadTarget.get("/api/v1/key-info",
                            systems.apiKey("on")), clients);
                }
            }
            if (options.phases().contains("closed")) {
                closedLoops();
            }
            if (options.phases().contains("open")) {
                openLoops();
            }
            if (options.phases().contains("profile") && systems.has("on")) {
                profiles();
            }
            if (options.phases().contains("overload") && systems.has("on")) {
                overload();
            }
            if (options.phases().contains("raw")) {
                rawAgain();
            }
            List<ProcessHandle> databases = systems.helpers();
            report.othersCpuCores = ((Machine.busyNanos() - busy0) - (Machine.ourNanos(databases) - ours0))
                    / (double) (System.nanoTime() - t0);
        } finally {
            systems.stop();
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
        systems.awaitQuiet();
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

    private void closedLoops() {
        for (String scenario : scenarios.all()) {
            for (int clients : options.clients()) {
                for (SystemUnderTest sut : systems.all()) {
                    closed(sut, sut.name(), scenario, systems.target(sut, scenario), clients);
                }
            }
        }
    }

    private LoadResult closed(SystemUnderTest sut, String system, String scenario, LoadTarget target, int clients) {
        systems.awaitQuiet();
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
        ServerProcess on = systems.server("on");
        if (on == null) {
            return;
        }
        for (String scenario : scenarios.open()) {
            double best = best("batching on", scenario);
            report.openBest.put(on.name() + "/" + scenario, best);
            for (double fraction : options.openFractions()) {
                systems.awaitQuiet();
                LoadResult r = load.open(on, scenario, systems.target(on, scenario), fraction * best,
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
        for (String scenario : scenarios.all()) {
            boolean light = scenario.startsWith("light");
            int clients = light ? 64 : 16;
            if (options.clients().contains(clients)) {
                runs.add(new String[] {"on", scenario, Integer.toString(clients)});
                if (light && systems.has("nometer")) {
                    runs.add(new String[] {"nometer", scenario, Integer.toString(clients)});
                }
            }
        }
        for (String[] run : runs) {
            ServerProcess server = systems.server(run[0]);
            String label = server.name() + ", " + run[1] + ", " + run[2] + " clients";
            Path file = runDir.resolve("profile-" + ServerProcess.slug(label) + ".jfr");
            systems.awaitQuiet();
            JfrProfile.start(server, file);
            LoadResult r;
            try {
                // starting a recording deoptimises compiled code: warm up again, longer, under the recorder
                Duration warmup = options.warmup(run[1]).plusSeconds(10);
                r = load.closed(server, run[1], systems.target(server, run[1]), Integer.parseInt(run[2]), warmup,
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
        ServerProcess on = systems.server("on");
        String scenario = scenarios.open().stream().filter(s -> s.startsWith("heavy")).findFirst().orElse(scenarios.all().get(0));
        double sustained = best("batching on", scenario);
        systems.awaitQuiet();
        report.overload = OverloadTest.run(load, on, scenario, systems.target(on, scenario), sustained, options);
        log("overload %s: %s", scenario, report.overload.overload().statuses());
    }

    private double best(String system, String scenario) {
        return report.closed.stream().filter(r -> r.system().equals(system) && r.scenario().equals(scenario))
                .mapToDouble(LoadResult::requestsPerSecond).max().orElse(1);
    }
}
