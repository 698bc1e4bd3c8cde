package com.modelmarket.bench.market;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The bench's settings; every one has a default, so {@code bench/market.sh} needs no arguments.
 *
 * @param repo the checkout (found from the working directory)
 * @param serverCpus cores the servers, the peer and the raw loop are pinned to ({@code taskset -c})
 * @param clientCpus cores this load generator is pinned to (by {@code bench/market.sh}; only reported here)
 * @param clients closed-loop concurrencies
 * @param warmup warm-up before each measured window (not counted)
 * @param measure each closed-loop window
 * @param openMeasure each open-loop window (longer: its tail is the point)
 * @param openFractions open-loop rates as fractions of the best closed-loop rate
 * @param systems which servers run: {@code on} (batching on), {@code off} (MM_SERVING_MAX_BATCH_SIZE=1),
 *     {@code nometer} (MM_METERING_ENABLED=false), {@code peer}
 * @param phases which phases run: {@code raw}, {@code keyinfo}, {@code closed}, {@code open}, {@code profile},
 *     {@code overload} (off by default: it adds about 1.5 minutes)
 * @param overloadFactor arrival rate of the overload phase as a multiple of the best sustained rate
 * @param overloadDuration how long the overload lasts
 * @param writeDocs whether the results replace the generated block of {@code docs/benchmarks.md}
 * @param heavyWarmup warm-up of each closed-loop run of the heavy model
 * @param heavyMeasure window of each closed-loop run of the heavy model (longer: at 64 clients one answer takes seconds)
 * @param serverWarmup load on every system before any measurement, per scenario, so that the JIT has compiled the paths
 * @param serverJar the server to start (default: this checkout's {@code marketplace/target/modelmarket.jar})
 */
record BenchOptions(Path repo, String serverCpus, String clientCpus, List<Integer> clients, Duration warmup,
                    Duration measure, Duration openMeasure, List<Double> openFractions, Set<String> systems,
                    Set<String> phases, List<String> lightEncodings, List<String> heavyEncodings,
                    double overloadFactor, Duration overloadDuration, double rawSeconds, boolean writeDocs,
                    List<String> serverJvmOptions, Duration heavyWarmup, Duration heavyMeasure, Duration serverWarmup,
                    Path serverJar) {

    static final String USAGE = """
            options (all optional):
              --server-cpus 1          cores for the servers, the peer and the raw loop (taskset -c)
              --client-cpus 0          cores the load generator runs on (bench/market.sh pins it; reported only)
              --clients 1,16,64        closed-loop concurrencies
              --warmup 2 --seconds 5   warm-up and measured seconds of each closed-loop run (light model, key-info)
              --heavy-warmup 3 --heavy-seconds 8   the same for the heavy model
              --server-warmup 5        unmeasured load before measuring, per system: light 2x at 64 clients
                                       and 1x at 1 client, heavy 1x at 16 clients (0: none)
              --open-seconds 8         measured seconds of each open-loop run
              --open-fractions 0.5,0.8 open-loop rates as fractions of the best closed-loop rate
              --systems on,off,nometer,peer
              --phases raw,keyinfo,closed,open,profile   (add overload for the 60 s overload test)
              --light-encodings json   --heavy-encodings json,binary
              --overload-factor 5 --overload-seconds 60
              --raw-seconds 3          measured seconds per batch size of the raw loop (heavy: x2.5)
              --server-jvm -Xmx2g      JVM options of the servers (comma-separated)
              --server-jar PATH        another build of the server (default marketplace/target/modelmarket.jar)
              --write-docs true        replace the generated block of docs/benchmarks.md
            """;

    static BenchOptions parse(String[] args) {
        Path repo = findRepo();
        String serverCpus = "1";
        String clientCpus = "0";
        List<Integer> clients = List.of(1, 16, 64);
        double warmup = 2;
        double seconds = 5;
        double openSeconds = 8;
        List<Double> fractions = List.of(0.5, 0.8);
        Set<String> systems = Set.of("on", "off", "nometer", "peer");
        Set<String> phases = Set.of("raw", "keyinfo", "closed", "open", "profile");
        List<String> light = List.of("json");
        List<String> heavy = List.of("json", "binary");
        double overloadFactor = 5;
        double overloadSeconds = 60;
        double rawSeconds = 3;
        boolean writeDocs = true;
        List<String> jvm = List.of("-Xmx2g");
        double heavyWarmup = 3;
        double heavySeconds = 8;
        double serverWarmup = 5;
        Path serverJar = repo.resolve("marketplace/target/modelmarket.jar");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--help")) {
                System.out.print(USAGE);
                System.exit(0);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value\n" + USAGE);
            }
            String v = args[++i];
            switch (args[i - 1]) {
                case "--server-cpus" -> serverCpus = v;
                case "--client-cpus" -> clientCpus = v;
                case "--clients" -> clients = Arrays.stream(v.split(",")).map(Integer::valueOf).toList();
                case "--warmup" -> warmup = Double.parseDouble(v);
                case "--seconds" -> seconds = Double.parseDouble(v);
                case "--open-seconds" -> openSeconds = Double.parseDouble(v);
                case "--open-fractions" -> fractions = Arrays.stream(v.split(",")).map(Double::valueOf).toList();
                case "--systems" -> systems = Set.of(v.split(","));
                case "--phases" -> phases = Set.of(v.split(","));
                case "--light-encodings" -> light = v.isBlank() ? List.of() : List.of(v.split(","));
                case "--heavy-encodings" -> heavy = v.isBlank() ? List.of() : List.of(v.split(","));
                case "--overload-factor" -> overloadFactor = Double.parseDouble(v);
                case "--overload-seconds" -> overloadSeconds = Double.parseDouble(v);
                case "--raw-seconds" -> rawSeconds = Double.parseDouble(v);
                case "--server-jvm" -> jvm = v.isBlank() ? List.of() : List.of(v.split(","));
                case "--write-docs" -> writeDocs = Boolean.parseBoolean(v);
                case "--heavy-warmup" -> heavyWarmup = Double.parseDouble(v);
                case "--heavy-seconds" -> heavySeconds = Double.parseDouble(v);
                case "--server-warmup" -> serverWarmup = Double.parseDouble(v);
                case "--server-jar" -> serverJar = Path.of(v).toAbsolutePath();
                default -> throw new IllegalArgumentException("unknown option " + args[i - 1] + "\n" + USAGE);
            }
        }
        return new BenchOptions(repo, serverCpus, clientCpus, clients, seconds(warmup), seconds(seconds),
                seconds(openSeconds), fractions, systems, phases, light, heavy, overloadFactor, seconds(overloadSeconds),
                rawSeconds, writeDocs, jvm, seconds(heavyWarmup), seconds(heavySeconds), seconds(serverWarmup),
                serverJar);
    }

    Duration warmup(String scenario) {
        return scenario.startsWith("heavy") ? heavyWarmup : warmup;
    }

    Duration measure(String scenario) {
        return scenario.startsWith("heavy") ? heavyMeasure : measure;
    }

    Path modelsDir() {
        return repo.resolve("bench/models/out");
    }

    Path peerScript() {
        return repo.resolve("bench/peer/peer_server.py");
    }

    Path docs() {
        return repo.resolve("docs/benchmarks.md");
    }

    private static Duration seconds(double s) {
        return Duration.ofMillis((long) (s * 1000));
    }

    /** The checkout: the working directory or one of its parents that holds {@code bench/pom.xml}. */
    private static Path findRepo() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("bench/pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("run from the checkout (no bench/pom.xml here or above)");
    }
}
