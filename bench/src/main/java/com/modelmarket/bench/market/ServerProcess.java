package com.modelmarket.bench.market;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A ModelMarket server started the way an operator starts it ({@code java -jar modelmarket.jar}),
 * on 127.0.0.1, with a fresh data directory (so a fresh embedded PostgreSQL), no demo catalog, and
 * the {@code MM_*} settings of the variant under test.
 */
final class ServerProcess extends ManagedProcess implements SystemUnderTest {

    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

    private final int port;
    private final Map<String, String> settings;
    private final Path dataDir;
    private final Path gcLog;
    private List<ProcessHandle> database = List.of();

    private ServerProcess(String name, String cpus, List<String> command, Map<String, String> env, Path log, int port,
                          Map<String, String> settings, Path dataDir) throws IOException {
        super(name, cpus, command, env, log);
        this.port = port;
        this.settings = settings;
        this.dataDir = dataDir;
        this.gcLog = log.resolveSibling("gc-" + slug(name) + ".log");
    }

    /**
     * Starts a server; {@code settings} are extra {@code MM_*} variables ({@code MM_SERVING_MAX_BATCH_SIZE=1}).
     */
    static ServerProcess start(String name, Path jar, Path runDir, String cpus, Map<String, String> settings,
                               List<String> jvmOptions) throws IOException {
        int port = freePort();
        Path data = Files.createDirectories(runDir.resolve("server-" + slug(name)));
        Map<String, String> env = new HashMap<>();
        env.put("MM_HTTP_PORT", Integer.toString(port));
        env.put("MM_HTTP_HOST", LoadGenerator.HOST);
        env.put("MM_MANAGEMENT_PORT", "0"); // several servers may run side by side
        env.put("MM_DATA_DIR", data.toString());
        env.put("MM_DEMO_ENABLED", "false");
        env.putAll(settings);
        List<String> command = new ArrayList<>();
        command.add(javaCommand());
        command.addAll(jvmOptions);
        // GC events to a file, for reading pauses against the latency figures afterwards
        command.add("-Xlog:gc:file=" + runDir.resolve("gc-" + slug(name) + ".log"));
        command.addAll(List.of("-jar", jar.toString()));
        return new ServerProcess(name, cpus, command, env, runDir.resolve("server-" + slug(name) + ".log"), port,
                Map.copyOf(settings), data);
    }

    /** Waits for {@code GET /health/ready} to answer 200. */
    void awaitReady(Vertx vertx) {
        try (Http http = new Http(vertx, port)) {
            awaitReady(() -> {
                try {
                    return http.get("/health/ready", null).status() == 200;
                } catch (RuntimeException e) {
                    return false;
                }
            }, Duration.ofSeconds(240));
        }
        // the embedded PostgreSQL daemonises: find its postmaster by its data directory
        database = ProcessCpu.commandLineContains(dataDir.toString()).stream()
                .filter(p -> p.pid() != process().pid()).toList();
    }

    @Override
    public List<ProcessHandle> helpers() {
        return database;
    }

    /** Stops the server (which stops its PostgreSQL); a PostgreSQL it left running is stopped too. */
    @Override
    void stop(Duration grace) {
        super.stop(grace);
        for (ProcessHandle postmaster : database) {
            if (postmaster.isAlive()) {
                postmaster.destroy();
                postmaster.onExit().completeOnTimeout(postmaster, 15, TimeUnit.SECONDS).join();
                if (postmaster.isAlive()) {
                    postmaster.destroyForcibly();
                }
            }
        }
    }

    @Override
    public int port() {
        return port;
    }

    Map<String, String> settings() {
        return settings;
    }

    /** Deletes the data directory (its PostgreSQL cluster and model store: hundreds of MB per server); call after stopping. */
    void deleteData() {
        try (java.util.stream.Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // left for the next clean-up of bench/runs
        }
    }

    /** {@code "N pauses, X s in all, longest Y ms (collector)"} from the server's GC log. */
    String gcSummary() {
        try {
            List<String> lines = Files.readAllLines(gcLog);
            Matcher pause = Pattern.compile("Pause .* ([0-9.]+)ms$").matcher("");
            String collector = lines.stream().filter(l -> l.contains("Using ")).findFirst()
                    .map(l -> l.substring(l.indexOf("Using ") + 6).strip()).orElse("?");
            double total = 0;
            double max = 0;
            int count = 0;
            for (String line : lines) {
                if (pause.reset(line).find()) {
                    double ms = Double.parseDouble(pause.group(1));
                    total += ms;
                    max = Math.max(max, ms);
                    count++;
                }
            }
            return String.format(java.util.Locale.ROOT, "%d pauses, %.1f s in all, longest %.0f ms (%s)", count,
                    total / 1000, max, collector);
        } catch (IOException e) {
            return "no GC log";
        }
    }

    /** Heap in use (bytes) as {@code jcmd GC.heap_info} reports it, or -1. */
    long heapUsedBytes() {
        String out = jcmd("GC.heap_info");
        Matcher m = HEAP_USED.matcher(out);
        return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
    }

    /** Runs {@code jcmd <pid> args…} and returns what it printed. */
    String jcmd(String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(process().pid())));
        command.addAll(List.of(args));
        try {
            Process jcmd = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(jcmd.getInputStream().readAllBytes());
            if (!jcmd.waitFor(60, TimeUnit.SECONDS)) {
                jcmd.destroyForcibly();
            }
            return out;
        } catch (IOException e) {
            return "jcmd failed: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    static String slug(String name) {
        return name.replaceAll("[^A-Za-z0-9]+", "-");
    }
}
