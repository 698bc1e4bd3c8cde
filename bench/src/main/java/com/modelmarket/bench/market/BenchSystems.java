package com.modelmarket.bench.market;

import static com.modelmarket.bench.market.BenchLog.log;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The systems under test of one run: a marketplace server per variant (batching on, batching off,
 * metering off), each set up with its models and a customer's API key, and the FastAPI peer.
 * Starts them, checks one request of each kind against each, warms them up, waits until they are
 * idle before a measurement, and stops them.
 */
final class BenchSystems {

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
    private final Report report;
    private final List<BenchModel> models;
    private final BenchScenarios scenarios;
    private final Map<String, ServerProcess> servers = new LinkedHashMap<>();
    private final Map<String, String> apiKeys = new LinkedHashMap<>();
    private PeerProcess peer;

    BenchSystems(BenchOptions options, Path runDir, Vertx vertx, LoadGenerator load, Report report,
                 List<BenchModel> models, BenchScenarios scenarios) {
        this.options = options;
        this.runDir = runDir;
        this.vertx = vertx;
        this.load = load;
        this.report = report;
        this.models = models;
        this.scenarios = scenarios;
    }

    void start() throws Exception {
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
        for (String scenario : scenarios.all()) {
            for (SystemUnderTest sut : all()) {
                check(sut, scenario);
            }
        }
        if (!options.serverWarmup().isZero()) {
            for (SystemUnderTest sut : all()) {
                warmUp(sut);
            }
        }
    }

    void stop() {
        servers.values().forEach(s -> report.serverGc.put(s.name(), s.gcSummary()));
        if (peer != null) {
            peer.stop(Duration.ofSeconds(10));
        }
        servers.values().forEach(s -> s.stop(Duration.ofSeconds(60)));
        servers.values().forEach(ServerProcess::deleteData);
    }

    /** Every system started, the servers first. */
    List<SystemUnderTest> all() {
        List<SystemUnderTest> all = new ArrayList<>(servers.values());
        if (peer != null) {
            all.add(peer);
        }
        return all;
    }

    boolean has(String variant) {
        return servers.containsKey(variant);
    }

    /** The server of {@code variant} ({@code on}, {@code off}, {@code nometer}), or null if it was not started. */
    ServerProcess server(String variant) {
        return servers.get(variant);
    }

    String apiKey(String variant) {
        return apiKeys.get(variant);
    }

    /** The servers' helper processes (their daemonised databases). */
    List<ProcessHandle> helpers() {
        return servers.values().stream().flatMap(s -> s.helpers().stream()).toList();
    }

    /** The inference request of {@code scenario} for {@code sut}, with its API key if it is one of the servers. */
    LoadTarget target(SystemUnderTest sut, String scenario) {
        String key = sut instanceof ServerProcess s ? apiKeys.get(variantOf(s)) : null;
        return scenarios.target(scenario, key);
    }

    /**
     * Waits until every system is idle (under 10 % of a core over 500 ms), at most two minutes: a
     * server may still be working off a queue its last clients left behind, and all of them share
     * the same cores.
     */
    void awaitQuiet() {
        long until = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < until) {
            long before = cpuNanos();
            long t0 = System.nanoTime();
            ManagedProcess.sleep(500);
            double cores = (cpuNanos() - before) / (double) (System.nanoTime() - t0);
            if (cores < 0.1) {
                return;
            }
        }
        log("systems still busy after 2 minutes; measuring anyway");
    }

    /**
     * Unmeasured load until the JIT has compiled the paths the runs take (on one core, C2 keeps
     * compiling for tens of seconds and takes CPU from the server's own threads): per light
     * scenario twice the warm-up at 64 clients and once at 1 client; per heavy scenario once at 16.
     */
    private void warmUp(SystemUnderTest sut) {
        Duration w = options.serverWarmup();
        for (String scenario : scenarios.all()) {
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

    /** One request of each kind to each system, answered as asked (this also loads the models: cold starts happen here). */
    private void check(SystemUnderTest sut, String scenario) {
        BenchModel m = scenarios.model(scenario);
        LoadTarget t = target(sut, scenario);
        try (Http http = new Http(vertx, sut.port())) {
            String problem = m.problemWith(http.send(t.method(), t.uri(), null, t.headers(), t.body()),
                    BenchScenarios.encoding(scenario));
            if (problem != null) {
                throw new IllegalStateException(sut.name() + ", " + scenario + ": " + problem);
            }
        }
    }

    private long cpuNanos() {
        long sum = 0;
        for (SystemUnderTest sut : all()) {
            ProcessCpu.Snapshot s = ProcessCpu.snapshot(sut.process(), sut.helpers());
            sum += s.processNanos() + s.childrenNanos();
        }
        return sum;
    }

    private String variantOf(ServerProcess server) {
        return servers.entrySet().stream().filter(e -> e.getValue() == server).map(Map.Entry::getKey).findFirst()
                .orElseThrow();
    }
}
