package com.modelmarket.marketplace.support;

import static org.awaitility.Awaitility.await;

import com.modelmarket.marketplace.Main;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One node of a test cluster: the platform's {@code Main} in a JVM of its own (the test class path),
 * configured by {@code MM_*} variables as an operator would, on a shared test database. Hazelcast
 * joins by TCP-IP on 127.0.0.1 only (multicast and phone-home off, as the product always sets).
 */
public final class NodeProcess implements AutoCloseable {

    public final String name;
    public final int httpPort;
    public final Path dir;
    private final Process process;
    /** What started it, so that it can be started again as the same node. */
    private final ProcessBuilder builder;

    private NodeProcess(String name, int httpPort, Path dir, ProcessBuilder builder) throws IOException {
        this.name = name;
        this.httpPort = httpPort;
        this.dir = dir;
        this.builder = builder;
        this.process = builder.start();
    }

    /** Free loopback ports, one per cluster member, for the Hazelcast member list. */
    public static List<Integer> freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                sockets.add(new ServerSocket(0));
            }
            return sockets.stream().map(ServerSocket::getLocalPort).toList();
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    public static String members(List<Integer> hazelcastPorts) {
        return hazelcastPorts.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    /**
     * Starts a node.
     *
     * @param role {@code all}, {@code api} or {@code serving}
     * @param extra further {@code MM_*} variables
     */
    public static NodeProcess start(String name, String role, Path root, String dbUrl, int hazelcastPort, String members,
                                    Map<String, String> extra) throws IOException {
        int http = freePorts(1).get(0);
        Path dir = Files.createDirectories(root.resolve(name));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                Main.class.getName())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("node.log").toFile()));
        Map<String, String> env = pb.environment();
        env.put("MM_NODE_ROLE", role);
        env.put("MM_CLUSTER_ENABLED", "true");
        env.put("MM_CLUSTER_MEMBERS", members);
        env.put("MM_CLUSTER_INTERFACE", "127.0.0.1");
        env.put("MM_CLUSTER_PORT", Integer.toString(hazelcastPort));
        env.put("MM_CLUSTER_EVENTBUS_HOST", "127.0.0.1");
        env.put("MM_HTTP_PORT", Integer.toString(http));
        env.put("MM_HTTP_HOST", "127.0.0.1");
        env.put("MM_HTTP_INSTANCES", "1");
        env.put("MM_MANAGEMENT_PORT", "0");
        env.put("MM_DATA_DIR", dir.resolve("data").toString());
        env.put("MM_DB_URL", dbUrl);
        env.put("MM_DB_POOL_SIZE", "4");
        env.put("MM_PASSWORD_ARGON2_MEMORY_KIB", "1024");
        env.put("MM_PASSWORD_ARGON2_ITERATIONS", "1");
        env.put("MM_SERVING_CALIBRATION_BUDGET_MILLIS", "0");
        env.put("MM_SERVING_HOST_HEAP_BYTES", "268435456");
        env.putAll(extra);
        return new NodeProcess(name, http, dir, pb);
    }

    /**
     * Starts the node again after it stopped, as an operator restarts a service: the same role,
     * ports, data directory and settings (its log goes on in the same file).
     */
    public NodeProcess startAgain() throws IOException {
        if (process.isAlive()) {
            throw new IllegalStateException(name + " is still running");
        }
        return new NodeProcess(name, httpPort, dir, builder);
    }

    /** Waits until {@code /health/ready} answers 200. */
    public void awaitReady(Api api, Duration atMost) {
        await(name + " ready").atMost(atMost).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new AssertionError(name + " exited " + process.exitValue() + ":\n" + logTail());
                    }
                    return api.get("/health/ready", null).statusCode() == 200;
                });
    }

    /**
     * A graceful stop (SIGTERM) and its exit code; fails if the node has not exited within
     * {@code atMost} (it is then killed).
     */
    public int terminate(Duration atMost) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(atMost.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(name + " did not stop within " + atMost + " of SIGTERM:\n" + logTail());
        }
        return process.exitValue();
    }

    /** {@code kill -9}. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    public boolean alive() {
        return process.isAlive();
    }

    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("node.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** SIGTERM, then SIGKILL if it has not stopped in 20 s. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
