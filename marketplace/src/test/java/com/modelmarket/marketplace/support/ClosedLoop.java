package com.modelmarket.marketplace.support;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Closed-loop clients for cluster tests: each sends its next call as soon as its last one is
 * answered, until {@link #stop}; every answer (or client-side failure) is recorded with its times.
 */
public final class ClosedLoop {

    /** One call: its status (-1 when the client saw no answer, with {@code error}) and its answer. */
    public record Call(int index, long sentNanos, long answeredNanos, int status, HttpResponse<Buffer> response, String error) {

        public String header(String name) {
            return response == null ? null : response.getHeader(name);
        }
    }

    private final Vertx vertx;
    private final int clients;
    private final IntFunction<Future<HttpResponse<Buffer>>> send;
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Promise<Void> drained = Promise.promise();

    /** @param send sends call number {@code i} (0, 1, 2, … across all clients) */
    public ClosedLoop(Vertx vertx, int clients, IntFunction<Future<HttpResponse<Buffer>>> send) {
        this.vertx = vertx;
        this.clients = clients;
        this.send = send;
    }

    public ClosedLoop start() {
        running.set(true);
        for (int i = 0; i < clients; i++) {
            vertx.runOnContext(v -> sendNext());
        }
        return this;
    }

    private void sendNext() {
        if (!running.get()) {
            if (inFlight.get() == 0) {
                drained.tryComplete();
            }
            return;
        }
        int index = next.getAndIncrement();
        long sent = System.nanoTime();
        inFlight.incrementAndGet();
        send.apply(index).onComplete(ar -> {
            calls.add(ar.succeeded() ? new Call(index, sent, System.nanoTime(), ar.result().statusCode(), ar.result(), null)
                    : new Call(index, sent, System.nanoTime(), -1, null, ar.cause().toString()));
            inFlight.decrementAndGet();
            vertx.runOnContext(v -> sendNext());
        });
    }

    /** The calls answered so far. */
    public int answered() {
        return calls.size();
    }

    /** The calls answered so far that were sent after {@code nanos} ({@link System#nanoTime}). */
    public long answeredSince(long nanos) {
        return calls.stream().filter(c -> c.sentNanos() - nanos > 0).count();
    }

    /** Stops sending, waits for the calls in flight, and returns every call, in the order answered. */
    public List<Call> stop() {
        running.set(false);
        vertx.runOnContext(v -> {
            if (inFlight.get() == 0) {
                drained.tryComplete();
            }
        });
        try {
            drained.future().await(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the calls in flight were not answered within 60 s", e);
        }
        return List.copyOf(calls);
    }

    public static Map<Integer, Long> byStatus(List<Call> calls) {
        Map<Integer, Long> counts = new TreeMap<>();
        calls.forEach(c -> counts.merge(c.status(), 1L, Long::sum));
        return counts;
    }
}
