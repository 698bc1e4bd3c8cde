package com.modelmarket.bench.market;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** What the figures were measured on, and how busy the machine was with other work meanwhile. */
final class Machine {

    private Machine() {
    }

    static JsonObject describe(Path serverLib) {
        return new JsonObject()
                .put("cpu", firstValue(Path.of("/proc/cpuinfo"), "model name"))
                .put("cores", read(Path.of("/sys/devices/system/cpu/online")))
                .put("coreCount", coreCount())
                .put("memory", firstValue(Path.of("/proc/meminfo"), "MemTotal"))
                .put("kernel", read(Path.of("/proc/sys/kernel/osrelease")))
                .put("os", osName())
                .put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"))
                .put("vertx", libraryVersion(serverLib, "vertx-core-"))
                .put("netty", libraryVersion(serverLib, "netty-codec-http-"))
                .put("loadGeneratorCpus", firstValue(Path.of("/proc/self/status"), "Cpus_allowed_list"))
                .put("commit", gitCommit());
    }

    /** Jiffies all cores spent busy since boot (user, nice, system, irq, softirq, steal). */
    static long busyNanos() {
        String cpu = lines(Path.of("/proc/stat")).stream().filter(l -> l.startsWith("cpu ")).findFirst().orElse("cpu 0");
        String[] f = cpu.trim().split("\\s+");
        long busy = 0;
        for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
            busy += i < f.length ? Long.parseLong(f[i]) : 0;
        }
        return busy * ProcessCpu.TICK_NANOS;
    }

    /**
     * CPU time of this JVM, every process it started (servers, the peer, raw loops, jcmd; finished ones included) and
     * {@code daemons} (the servers' PostgreSQL) with their children.
     */
    static long ourNanos(List<ProcessHandle> daemons) {
        long self = ProcessCpu.processNanos(ProcessHandle.current().pid())
                + ProcessCpu.reapedChildrenNanos(ProcessHandle.current().pid());
        List<ProcessHandle> all = new java.util.ArrayList<>(ProcessHandle.current().descendants().toList());
        for (ProcessHandle d : daemons) {
            all.add(d);
            all.addAll(d.descendants().toList());
        }
        return self + all.stream().distinct()
                .mapToLong(p -> ProcessCpu.processNanos(p.pid()) + ProcessCpu.reapedChildrenNanos(p.pid())).sum();
    }

    static String loadAverage() {
        return read(Path.of("/proc/loadavg"));
    }

    static int coreCount() {
        return (int) lines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("processor")).count();
    }

    private static String libraryVersion(Path lib, String prefix) {
        try (Stream<Path> libs = Files.list(lib)) {
            return libs.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix) && n.endsWith(".jar"))
                    .map(n -> n.substring(prefix.length(), n.length() - 4)).findFirst().orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    /** The checkout's commit ({@code git describe --always --dirty}, read only), or "?". */
    private static String gitCommit() {
        try {
            Process git = new ProcessBuilder("git", "describe", "--always", "--dirty").redirectErrorStream(true).start();
            String out = new String(git.getInputStream().readAllBytes()).strip();
            return git.waitFor() == 0 ? out : "?";
        } catch (IOException e) {
            return "?";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }

    private static String osName() {
        return lines(Path.of("/etc/os-release")).stream().filter(l -> l.startsWith("PRETTY_NAME="))
                .map(l -> l.substring(12).replace("\"", "")).findFirst().orElse("?");
    }

    private static String firstValue(Path file, String key) {
        return lines(file).stream().filter(l -> l.startsWith(key)).map(l -> l.substring(l.indexOf(':') + 1).strip())
                .findFirst().orElse("?");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            return List.of();
        }
    }
}
