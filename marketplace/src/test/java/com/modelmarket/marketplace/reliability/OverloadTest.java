package com.modelmarket.marketplace.reliability;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.StartedPlatform;
import com.modelmarket.serving.ModelStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Overload at 2× and 5× the sustainable rate, offered open-loop (a fixed arrival rate, whatever
 * the answers): the excess is shed cleanly (429/503 with {@code Retry-After}, never another 5xx),
 * the model's queue never exceeds its cap, the heap levels off, and service is normal right after.
 * Each phase lasts {@code -Dmm.overload.seconds} (4 s by default; the documented run uses 60).
 * The load comes from a separate Vert.x instance in the same JVM, so the generator stays light:
 * one event loop and a bounded connection pool whose overflow is counted, not queued.
 */
@StartedPlatform({
        "serving.min-workers=1",
        "serving.max-workers=1",
        "serving.max-batch-size=4",
        "serving.max-queue=" + OverloadTest.MAX_QUEUE})
@Tag("slow")
class OverloadTest {

    static final int MAX_QUEUE = 16;
    private static final long PHASE_SECONDS = Long.getLong("mm.overload.seconds", 4);
    private static final String MODEL = "overload-digits";

    private static Platform platform;
    private static Vertx clientVertx;
    private static WebClient client;
    private static String key;
    private static Buffer body;

    @BeforeAll
    static void start(Platform started, Api api) {
        platform = started;
        {
            String owner = accessToken(api.signUp("Overload Org", "owner@overload.test", "overload-password"));
            createModel(api, owner, MODEL, "private", new JsonObject());
            publishVersion(api, owner, MODEL, "1.0.0", "digits_cnn");
            key = api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
        }
        body = Publishing.manifest("digits_cnn").getJsonObject("example").toBuffer();
        clientVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        client = WebClient.create(clientVertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                .setDefaultPort(platform.port()).setKeepAlive(true).setConnectTimeout(5_000),
                new PoolOptions().setHttp1MaxSize(128).setMaxWaitQueueSize(512));
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close();
            clientVertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    /** What one phase saw. */
    private static final class Tally {
        final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
        final List<Long> okMicros = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger missingRetryAfter = new AtomicInteger();
        final AtomicLong offered = new AtomicLong();

        void record(HttpResponse<Buffer> r, long startedNanos) {
            int status = r.statusCode();
            outcomes.computeIfAbsent(Integer.toString(status), s -> new LongAdder()).increment();
            if (status == 200) {
                okMicros.add((System.nanoTime() - startedNanos) / 1000);
            } else if ((status == 429 || status == 503) && r.getHeader("Retry-After") == null) {
                missingRetryAfter.incrementAndGet();
            }
        }

        void failed(Throwable t) {
            String kind = t instanceof io.vertx.core.http.ConnectionPoolTooBusyException ? "shed-by-client" : t.getClass().getSimpleName();
            outcomes.computeIfAbsent(kind, s -> new LongAdder()).increment();
        }

        long count(String outcome) {
            LongAdder n = outcomes.get(outcome);
            return n == null ? 0 : n.sum();
        }

        Map<String, Long> summary() {
            Map<String, Long> m = new TreeMap<>();
            outcomes.forEach((k, v) -> m.put(k, v.sum()));
            return m;
        }

        long p50Micros() {
            List<Long> sorted;
            synchronized (okMicros) {
                sorted = new ArrayList<>(okMicros);
            }
            Collections.sort(sorted);
            return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
        }
    }

    private static Future<HttpResponse<Buffer>> infer(Tally tally) {
        long started = System.nanoTime();
        tally.offered.incrementAndGet();
        return client.post("/v2/models/" + MODEL + "/infer").putHeader("Authorization", "Bearer " + key)
                .putHeader("Content-Type", "application/json").timeout(15_000).sendBuffer(body)
                .onSuccess(r -> tally.record(r, started))
                .onFailure(tally::failed);
    }

    /** {@code concurrency} clients, each sending its next request when the last is answered. */
    private static Tally closedLoop(int concurrency, long millis) throws Exception {
        Tally tally = new Tally();
        long end = System.nanoTime() + millis * 1_000_000;
        Promise<Void> done = Promise.promise();
        AtomicInteger running = new AtomicInteger(concurrency);
        clientVertx.runOnContext(v -> {
            for (int i = 0; i < concurrency; i++) {
                loop(tally, end, running, done);
            }
        });
        done.future().await(millis + 30_000, TimeUnit.MILLISECONDS);
        return tally;
    }

    private static void loop(Tally tally, long end, AtomicInteger running, Promise<Void> done) {
        if (System.nanoTime() - end >= 0) {
            if (running.decrementAndGet() == 0) {
                done.complete();
            }
            return;
        }
        infer(tally).onComplete(ar -> loop(tally, end, running, done));
    }

    /** Requests at a fixed rate for {@code seconds}, whatever the answers; returns when all are answered. */
    private static Tally openLoop(double perSecond, long seconds) throws Exception {
        Tally tally = new Tally();
        AtomicLong outstanding = new AtomicLong();
        Promise<Void> answered = Promise.promise();
        long total = Math.round(perSecond * seconds);
        clientVertx.runOnContext(v -> {
            long start = System.nanoTime();
            long[] sent = {0};
            clientVertx.setPeriodic(1, 1, id -> {
                long due = Math.min(total, (long) ((System.nanoTime() - start) * perSecond / 1e9));
                while (sent[0] < due) {
                    outstanding.incrementAndGet();
                    sent[0]++;
                    boolean last = sent[0] == total;
                    infer(tally).onComplete(ar -> {
                        if (outstanding.decrementAndGet() == 0 && tally.offered.get() == total) {
                            answered.tryComplete();
                        }
                    });
                    if (last) {
                        clientVertx.cancelTimer(id);
                    }
                }
            });
        });
        answered.future().await(seconds + 60, TimeUnit.SECONDS);
        return tally;
    }

    @Test
    @DisplayName("2× and 5× the sustainable rate: excess shed with 429/503 and Retry-After, queue within its cap, heap level, normal service after")
    void overload() throws Exception {
        closedLoop(4, 2_000); // warm-up: PyTorch's graph optimiser, the JIT, connections
        // Six clients keep the worker busy (batches of up to four requests) without filling the queue.
        Tally baseline = closedLoop(6, 3_000);
        double sustainable = baseline.count("200") / 3.0;
        assertTrue(sustainable > 5, "sustainable rate too low to test: " + baseline.summary());

        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        List<Long> heapMiB = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger maxQueued = new AtomicInteger();
        AtomicLong queueSamples = new AtomicLong();
        Thread sampler = new Thread(() -> {
            long nextHeap = System.nanoTime();
            while (!Thread.currentThread().isInterrupted()) {
                for (ModelStatus status : platform.services().serving().models()) {
                    maxQueued.accumulateAndGet(status.queuedItems(), Math::max);
                }
                queueSamples.incrementAndGet();
                if (System.nanoTime() - nextHeap >= 0) {
                    System.gc(); // heap after a collection: what is retained, not garbage not yet collected
                    heapMiB.add(memory.getHeapMemoryUsage().getUsed() >> 20);
                    nextHeap += 1_000_000_000L;
                }
                try {
                    Thread.sleep(2); // paces the sampler: one sample every 2 ms, not a wait for a condition
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "overload-sampler");
        sampler.setDaemon(true);
        sampler.start();
        Tally twice;
        Tally five;
        try {
            twice = openLoop(2 * sustainable, PHASE_SECONDS);
            five = openLoop(5 * sustainable, PHASE_SECONDS);
        } finally {
            sampler.interrupt();
            sampler.join(5_000);
        }

        for (Tally t : List.of(twice, five)) {
            Map<String, Long> seen = t.summary();
            for (String outcome : seen.keySet()) {
                assertTrue(List.of("200", "429", "503", "shed-by-client").contains(outcome),
                        "unexpected outcome " + outcome + " in " + seen);
            }
            assertEquals(0, t.missingRetryAfter.get(), "429/503 without Retry-After");
            assertTrue(t.count("200") > 0, "nothing served under overload: " + seen);
        }
        assertTrue(five.count("429") + five.count("503") > 0, "5x the sustainable rate shed nothing: " + five.summary());
        assertTrue(maxQueued.get() <= MAX_QUEUE, "queue reached " + maxQueued.get() + " > cap " + MAX_QUEUE);

        List<Long> heap = new ArrayList<>(heapMiB);
        assertTrue(heap.size() >= 3, "heap samples: " + heap);
        int third = heap.size() / 3;
        long firstMax = Collections.max(heap.subList(0, third));
        long lastMax = Collections.max(heap.subList(heap.size() - third, heap.size()));
        assertTrue(lastMax <= firstMax * 3 / 2 + 64, "heap after GC grew from " + firstMax + " MiB to " + lastMax + " MiB: " + heap);

        // Within a few seconds of the load stopping, a request is served with ordinary latency.
        long recoveryStart = System.nanoTime();
        Tally after = new Tally();
        await("a success within 5 s after the load").atMost(Duration.ofSeconds(5)).pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(50)).until(() -> {
                    infer(after).otherwiseEmpty().await(20, TimeUnit.SECONDS);
                    return after.count("200") > 0;
                });
        long recoveredMillis = (System.nanoTime() - recoveryStart) / 1_000_000;
        assertEquals(1, after.count("200"), "no success within 5 s after the load: " + after.summary());
        Tally normal = new Tally();
        for (int i = 0; i < 5; i++) {
            infer(normal).await(20, TimeUnit.SECONDS);
        }
        assertEquals(5, normal.count("200"), normal.summary().toString());
        long limitMicros = Math.max(10 * baseline.p50Micros(), 200_000);
        assertTrue(normal.p50Micros() <= limitMicros, "latency after overload " + normal.p50Micros()
                + " µs, baseline p50 " + baseline.p50Micros() + " µs");

        System.out.printf("OverloadTest: sustainable %.0f req/s (closed loop, 6 clients, p50 %d ms, %s); %ds at 2x (%.0f/s): %s;"
                        + " %ds at 5x (%.0f/s): %s; queue max %d of cap %d (%d samples); heap after GC (MiB, one sample a"
                        + " second, %d samples) first-third max %d, last-third max %d, overall max %d; first success %d ms"
                        + " after the load, then p50 %d ms%n",
                sustainable, baseline.p50Micros() / 1000, baseline.summary(), PHASE_SECONDS, 2 * sustainable, twice.summary(),
                PHASE_SECONDS, 5 * sustainable, five.summary(), maxQueued.get(), MAX_QUEUE, queueSamples.get(),
                heap.size(), firstMax, lastMax, Collections.max(heap), recoveredMillis, normal.p50Micros() / 1000);
    }
}
