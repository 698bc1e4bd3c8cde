package com.modelmarket.bench.market;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Java Flight Recorder profile of a server during one load run, summarised from
 * {@code jfr print --events jdk.ExecutionSample,jdk.NativeMethodSample}: Java samples by what the
 * code was doing (the first frame from the top that is not JDK plumbing decides), the hottest top
 * frames, and the native (JNI) frames threads were in, idle waits left out.
 */
final class JfrProfile {

    /** Where samples went. Counts are samples; JFR's profile settings sample Java threads every 10 ms, native every 20 ms. */
    record Summary(String label, int javaSamples, Map<String, Integer> categories, Map<String, Integer> topFrames,
                   int nativeSamples, Map<String, Integer> nativeFrames, Map<String, Integer> threads) {
    }

    /** Class-name prefixes and the activity they stand for; the first that matches a frame wins. */
    private static final String[][] CATEGORIES = {
        {"ai.djl.pytorch.jni", "PyTorch via JNI"},
        {"ai.djl", "DJL NDArray copies"},
        {"com.modelmarket.serving", "serving engine (batcher, tensors)"},
        {"com.modelmarket.marketplace.inference.TensorCodec", "tensor codec (decode, checks, encode)"},
        {"com.fasterxml.jackson", "JSON parse/write (Jackson)"},
        {"io.vertx.core.json", "JSON parse/write (Jackson)"},
        {"ch.qos.logback", "access log (Logback, synchronous console)"},
        {"org.slf4j", "access log (Logback, synchronous console)"},
        {"io.micrometer", "metrics (Micrometer)"},
        {"io.vertx.pgclient", "PostgreSQL client"},
        {"io.vertx.sqlclient", "PostgreSQL client"},
        {"com.modelmarket.billing", "metering"},
        {"com.modelmarket.marketplace.metering", "metering"},
        {"com.modelmarket.marketplace.apikeys", "API-key check (HMAC, cache)"},
        {"com.sun.crypto", "API-key check (HMAC, cache)"},
        {"javax.crypto", "API-key check (HMAC, cache)"},
        {"com.modelmarket.marketplace", "marketplace services (resolve, entitlement, rate limit)"},
        {"io.vertx.ext.web", "Vert.x Web (router, body handler)"},
        {"io.netty", "HTTP and event loop (Netty, Vert.x core)"},
        {"io.vertx.core", "HTTP and event loop (Netty, Vert.x core)"},
    };
    /** Frames that say nothing about who asked for the work. */
    private static final String[] PLUMBING = {"java.", "jdk.", "sun.", "io.netty.buffer.", "io.netty.util.",
        "io.vertx.core.buffer.", "io.vertx.core.impl.", "io.vertx.core.internal."};
    /** Native frames a thread sits in while it waits for work (FileInputStream.read: the embedded PostgreSQL's log reader). */
    private static final String[] IDLE = {"epollWait", "EPoll.wait", "Unsafe.park", "Object.wait", "Thread.sleep",
        "accept", "waitForProcessExit", "socketRead", "FileInputStream.read", "Native.epoll", "poll0", "doSelect"};

    private JfrProfile() {
    }

    /** Starts a recording in the server. */
    static void start(ServerProcess server, Path file) {
        String out = server.jcmd("JFR.start", "name=bench", "settings=profile", "filename=" + file);
        if (!out.contains("Started recording")) {
            throw new IllegalStateException("JFR.start failed: " + out);
        }
    }

    /** Stops the recording and writes the file. */
    static void stop(ServerProcess server) {
        server.jcmd("JFR.stop", "name=bench");
    }

    static Summary summarise(String label, Path file) throws IOException, InterruptedException {
        Process jfr = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jfr").toString(), "print",
                "--events", "jdk.ExecutionSample,jdk.NativeMethodSample", "--stack-depth", "64", file.toString())
                .redirectErrorStream(true).start();
        Map<String, Integer> categories = new HashMap<>();
        Map<String, Integer> top = new HashMap<>();
        Map<String, Integer> natives = new HashMap<>();
        Map<String, Integer> threads = new HashMap<>();
        int[] counts = new int[2];
        try (BufferedReader in = new BufferedReader(new InputStreamReader(jfr.getInputStream()))) {
            String type = null;
            String thread = null;
            List<String> frames = new ArrayList<>();
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String t = line.strip();
                if (t.startsWith("jdk.ExecutionSample {") || t.startsWith("jdk.NativeMethodSample {")) {
                    type = t.substring(0, t.indexOf(' '));
                    thread = null;
                    frames.clear();
                } else if (t.startsWith("sampledThread = \"")) {
                    thread = t.substring(17, t.indexOf('"', 17)).replaceAll("[0-9]+", "#");
                } else if (type != null && t.contains("line:")) {
                    frames.add(t.substring(0, t.indexOf('(') > 0 ? t.indexOf('(') : t.length()));
                } else if (t.equals("}") && type != null && !frames.isEmpty()) {
                    boolean java = type.equals("jdk.ExecutionSample");
                    if (java) {
                        counts[0]++;
                        categories.merge(category(frames), 1, Integer::sum);
                        top.merge(frames.get(0), 1, Integer::sum);
                        threads.merge(thread, 1, Integer::sum);
                    } else if (!idle(frames.get(0))) {
                        counts[1]++;
                        natives.merge(frames.get(0), 1, Integer::sum);
                        threads.merge(thread + " (native)", 1, Integer::sum);
                    }
                    type = null;
                }
            }
        }
        if (!jfr.waitFor(120, TimeUnit.SECONDS)) {
            jfr.destroyForcibly();
        }
        return new Summary(label, counts[0], sorted(categories, 20), sorted(top, 15), counts[1], sorted(natives, 8),
                sorted(threads, 12));
    }

    static String category(List<String> frames) {
        for (String frame : frames) {
            if (plumbing(frame)) {
                continue;
            }
            for (String[] rule : CATEGORIES) {
                if (frame.startsWith(rule[0])) {
                    return rule[1];
                }
            }
            return "other: " + frame.substring(0, Math.max(0, frame.lastIndexOf('.')));
        }
        String first = frames.get(0);
        return "JDK: " + first.substring(0, Math.max(0, first.lastIndexOf('.')));
    }

    private static boolean plumbing(String frame) {
        for (String p : PLUMBING) {
            if (frame.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    private static boolean idle(String frame) {
        for (String i : IDLE) {
            if (frame.contains(i)) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, Integer> sorted(Map<String, Integer> counts, int limit) {
        Map<String, Integer> out = new LinkedHashMap<>();
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(limit)
                .forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }
}
