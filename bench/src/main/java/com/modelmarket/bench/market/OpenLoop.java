package com.modelmarket.bench.market;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The open-loop generator as a command, for the wrk-driven scripts (wrk itself is closed-loop):
 * requests at a fixed arrival rate, latency from each request's intended send time
 * ({@link LoadGenerator#open}). {@code bench/run.sh} validates it against {@link
 * com.modelmarket.bench.TrivialServer} at a multiple of the rate it then offers the platform, and
 * prints its own CPU per request beside every figure.
 *
 * <pre>java -cp ... OpenLoop PORT SERVER_PID PATH BODY_FILE|- CONTENT_TYPE IHCL|- KEY|- RATE CONNECTIONS WARMUP_S SECONDS</pre>
 *
 * Prints one line: {@code RESULT ok=… other=… seconds=… p50_ms=… p99_ms=… offered=… client_cpu_us=…}.
 */
public final class OpenLoop {

    private OpenLoop() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        ProcessHandle server = ProcessHandle.of(Long.parseLong(args[1])).orElseThrow();
        String path = args[2];
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        Buffer body = null;
        if (!"-".equals(args[3])) {
            body = Buffer.buffer(Files.readAllBytes(Path.of(args[3])));
            headers.add("Content-Type", args[4]);
        }
        if (!"-".equals(args[5])) {
            headers.add(LoadGenerator.BINARY_HEADER, args[5]);
        }
        if (!"-".equals(args[6])) {
            headers.add("Authorization", "Bearer " + args[6]);
        }
        double rate = Double.parseDouble(args[7]);
        int connections = Integer.parseInt(args[8]);
        Duration warmup = Duration.ofMillis((long) (Double.parseDouble(args[9]) * 1000));
        Duration measure = Duration.ofMillis((long) (Double.parseDouble(args[10]) * 1000));
        LoadTarget target = new LoadTarget(body == null ? HttpMethod.GET : HttpMethod.POST, path, headers, body, 1);
        SystemUnderTest sut = new SystemUnderTest() {
            @Override
            public String name() {
                return "server";
            }

            @Override
            public int port() {
                return port;
            }

            @Override
            public ProcessHandle process() {
                return server;
            }
        };
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true));
        try {
            LoadResult r = new LoadGenerator(vertx).open(sut, "open", target, rate, connections, warmup, measure);
            System.out.printf("RESULT ok=%d other=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f offered=%.0f client_cpu_us=%.1f%n",
                    r.ok(), r.failed(), r.seconds(), r.p50Ms(), r.p99Ms(), rate, r.clientCpuMsPerRequest() * 1000);
        } finally {
            vertx.close().await();
        }
    }
}
