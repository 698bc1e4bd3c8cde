package com.modelmarket.bench.market;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time and memory of processes, read from Linux's {@code /proc}: what a system under test
 * spent per request, split into its own threads and its child processes (the embedded
 * PostgreSQL), and what the load generator itself spent.
 */
final class ProcessCpu {

    /** A reading of a process tree's CPU time, in nanoseconds. */
    record Snapshot(long takenNanos, long processNanos, long childrenNanos, long clientNanos, Map<String, Long> threads) {

        static final Snapshot NONE = new Snapshot(0, 0, 0, 0, Map.of());

        /** What the process spent between {@code earlier} and this reading, per thread group. */
        Map<String, Long> threadsSince(Snapshot earlier) {
            Map<String, Long> spent = new HashMap<>();
            threads.forEach((name, nanos) -> spent.merge(name, nanos - earlier.threads.getOrDefault(name, 0L), Long::sum));
            spent.values().removeIf(v -> v <= 0);
            return spent;
        }
    }

    static final long TICK_NANOS = 1_000_000_000L / clockTicks();

    private ProcessCpu() {
    }

    /**
     * The process, its descendants and helpers (with theirs) and this JVM, now; null process gives
     * {@link Snapshot#NONE}.
     */
    static Snapshot snapshot(ProcessHandle process, List<ProcessHandle> helpers) {
        if (process == null) {
            return Snapshot.NONE;
        }
        long children = process.descendants().mapToLong(p -> processNanos(p.pid())).sum();
        for (ProcessHandle helper : helpers) {
            children += processNanos(helper.pid()) + helper.descendants().mapToLong(p -> processNanos(p.pid())).sum();
        }
        return new Snapshot(System.nanoTime(), processNanos(process.pid()), children,
                processNanos(ProcessHandle.current().pid()), threadNanos(process.pid()));
    }

    /** User + system time of every thread of the process. */
    static long processNanos(long pid) {
        long[] fields = statFields(Path.of("/proc", Long.toString(pid), "stat"));
        return fields == null ? 0 : fields[0] + fields[1];
    }

    /** User + system time of the process's children that have exited and been waited for. */
    static long reapedChildrenNanos(long pid) {
        long[] fields = statFields(Path.of("/proc", Long.toString(pid), "stat"));
        return fields == null ? 0 : fields[2] + fields[3];
    }

    /** CPU time per thread group: the thread's name (at most 15 characters in Linux) without its number. */
    static Map<String, Long> threadNanos(long pid) {
        Map<String, Long> byName = new HashMap<>();
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        try (Stream<Path> list = Files.list(tasks)) {
            for (Path task : list.toList()) {
                long[] fields = statFields(task.resolve("stat"));
                String name = readName(task.resolve("comm"));
                if (fields != null && name != null) {
                    byName.merge(name.replaceAll("[0-9]+$", "#"), fields[0] + fields[1], Long::sum);
                }
            }
        } catch (IOException e) {
            return byName;
        }
        return byName;
    }

    /**
     * Processes whose command line holds {@code text} and are not below another such process: the
     * PostgreSQL postmaster started with {@code -D <data dir>} (its backends are its children).
     */
    static List<ProcessHandle> commandLineContains(String text) {
        List<ProcessHandle> found = new java.util.ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("[0-9]+")).toList()) {
                try {
                    String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline"))).replace('\0', ' ');
                    if (cmdline.contains(text)) {
                        ProcessHandle.of(Long.parseLong(proc.getFileName().toString())).ifPresent(found::add);
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        List<Long> pids = found.stream().map(ProcessHandle::pid).toList();
        return found.stream().filter(p -> p.parent().map(parent -> !pids.contains(parent.pid())).orElse(true)).toList();
    }

    /** Resident set size in bytes (0 if the process is gone). */
    static long rssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    /** utime, stime, cutime and cstime of a {@code stat} file in nanoseconds, or null if it is gone. */
    private static long[] statFields(Path stat) {
        try {
            String line = Files.readString(stat);
            // the command name is in parentheses and may itself hold spaces or parentheses
            String[] rest = line.substring(line.lastIndexOf(')') + 2).split(" ");
            return new long[] {Long.parseLong(rest[11]) * TICK_NANOS, Long.parseLong(rest[12]) * TICK_NANOS,
                Long.parseLong(rest[13]) * TICK_NANOS, Long.parseLong(rest[14]) * TICK_NANOS};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String readName(Path comm) {
        try {
            return Files.readString(comm).strip();
        } catch (IOException e) {
            return null;
        }
    }

    private static long clockTicks() {
        try {
            Process getconf = new ProcessBuilder(List.of("getconf", "CLK_TCK")).redirectErrorStream(true).start();
            String out = new String(getconf.getInputStream().readAllBytes()).strip();
            getconf.waitFor();
            return Long.parseLong(out);
        } catch (IOException | NumberFormatException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
