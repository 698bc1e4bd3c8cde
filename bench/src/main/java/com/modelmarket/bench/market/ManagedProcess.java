package com.modelmarket.bench.market;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A process the bench starts (a server, the peer, the raw predictor loop), pinned with
 * {@code taskset} to the cores given, its output in a log file. Stopping it ends only it and
 * its own descendants.
 */
class ManagedProcess implements AutoCloseable {

    private final String name;
    private final Process process;
    private final Path log;

    ManagedProcess(String name, String cpus, List<String> command, Map<String, String> env, Path log)
            throws IOException {
        List<String> pinned = new ArrayList<>();
        if (cpus != null && !cpus.isBlank()) {
            pinned.addAll(List.of("taskset", "-c", cpus));
        }
        pinned.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(pinned).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(env);
        this.name = name;
        this.log = log;
        this.process = builder.start();
    }

    public String name() {
        return name;
    }

    public ProcessHandle process() {
        return process.toHandle();
    }

    Path log() {
        return log;
    }

    Process raw() {
        return process;
    }

    /** Polls {@code ready} every 250 ms until it holds; fails if the process dies or time runs out. */
    void awaitReady(BooleanSupplier ready, Duration limit) {
        long until = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < until) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log);
            }
            if (ready.getAsBoolean()) {
                return;
            }
            sleep(250);
        }
        throw new IllegalStateException(name + " not ready after " + limit.toSeconds() + " s; see " + log);
    }

    /** SIGTERM (a graceful shutdown), then SIGKILL for it and its descendants after {@code grace}. */
    void stop(Duration grace) {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(30));
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static String javaCommand() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
