package com.modelmarket.bench.market;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The load generator: closed-loop clients (each sends its next request when the last is
 * answered) or an open loop (requests leave at a fixed rate whatever the answers do, and latency
 * counts from the intended send time, so a stalled server is not hidden by a stalled client:
 * no coordinated omission).
 *
 * <p>A closed-loop run measures once it is in its steady state: after the warm-up, and not before
 * as many answers as clients have arrived (64 clients of the heavy model take seconds to be
 * answered once), within 30 s; it counts the answers that arrive in its window. An open-loop run
 * counts the requests due in its window, waiting for the late ones. One run lives on one
 * event-loop context, so its counters need no locks; each run has its own connection pool,
 * opened during the warm-up.
 */
final class LoadGenerator {

    static final String HOST = "127.0.0.1";
    static final String BINARY_HEADER = "Inference-Header-Content-Length";
    /** Longest latency the histograms hold; a request is abandoned (counted as {@code io}) after this. */
    private static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** Longest a closed loop waits beyond its warm-up for one answer per client. */
    private static final long MAX_EXTRA_WARMUP_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final Vertx vertx;

    LoadGenerator(Vertx vertx) {
        this.vertx = vertx;
    }

    /** {@code clients} closed-loop clients, each with its own connection. */
    LoadResult closed(SystemUnderTest sut, String scenario, LoadTarget target, int clients, Duration warmup,
                      Duration measure) {
        Run run = new Run(sut, target, clients, false, warmup, measure);
        run.context.runOnContext(v -> {
            run.armWarmupLimit();
            for (int c = 0; c < clients; c++) {
                closedClient(run);
            }
        });
        run.await();
        return run.result(scenario, "closed", clients, 0);
    }

    /**
     * Requests at {@code rate} per second, on up to {@code connections} connections (a request that
     * finds them all busy waits in the pool, and that wait counts). At most {@code 8 × connections}
     * may be outstanding; beyond that a request is not sent and counted as {@code not sent}.
     */
    LoadResult open(SystemUnderTest sut, String scenario, LoadTarget target, double rate, int connections,
                    Duration warmup, Duration measure) {
        Run run = new Run(sut, target, connections, true, warmup, measure);
        int maxOutstanding = 8 * connections;
        run.context.runOnContext(v -> {
            run.startWindow(run.start + warmup.toNanos());
            run.scheduling = true;
            long[] sent = {0};
            vertx.setPeriodic(1, id -> {
                long now = System.nanoTime();
                while (true) {
                    long intended = run.start + (long) (sent[0] * 1e9 / rate);
                    if (intended >= run.end) {
                        vertx.cancelTimer(id);
                        run.scheduling = false;
                        run.finishIfIdle();
                        return;
                    }
                    if (intended > now) {
                        return;
                    }
                    sent[0]++;
                    if (run.outstanding >= maxOutstanding) {
                        run.notSent(intended);
                    } else {
                        run.send(intended);
                    }
                }
            });
        });
        run.await();
        return run.result(scenario, "open", connections, rate);
    }

    private void closedClient(Run run) {
        long now = System.nanoTime();
        if (now >= run.end) {
            run.finishIfIdle();
            return;
        }
        run.send(now).onComplete(ar -> closedClient(run));
    }

    /** One answer: its status and the batch it ran in. */
    private record Answer(int status, String batchSize) {
    }

    /** The state of one run; touched only on its context. */
    private final class Run {
        final SystemUnderTest sut;
        final LoadTarget target;
        final Context context = vertx.getOrCreateContext();
        final HttpClientAgent client;
        final boolean openLoop;
        final int clients;
        final long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        final long earliestWindow;
        final long measureNanos;
        final Histogram latency = new Histogram(MAX_LATENCY_NANOS, 3);
        final Map<String, Long> statuses = new HashMap<>();
        final Promise<Void> done = Promise.promise();
        long windowStart = Long.MAX_VALUE;
        long end = Long.MAX_VALUE;
        long answers;
        long ok;
        long items;
        double inverseBatchSizes;
        long batchSizes;
        int outstanding;
        boolean scheduling;
        ProcessCpu.Snapshot cpuAtStart = ProcessCpu.Snapshot.NONE;
        ProcessCpu.Snapshot cpuAtEnd = ProcessCpu.Snapshot.NONE;

        Run(SystemUnderTest sut, LoadTarget target, int connections, boolean openLoop, Duration warmup, Duration measure) {
            this.sut = sut;
            this.target = target;
            this.openLoop = openLoop;
            this.clients = connections;
            this.earliestWindow = start + warmup.toNanos();
            this.measureNanos = measure.toNanos();
            this.client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(HOST)
                    .setDefaultPort(sut.port()).setKeepAlive(true).setTcpNoDelay(true),
                    new PoolOptions().setHttp1MaxSize(connections));
        }

        /** Fixes the window: it starts at {@code at} and lasts the measured time; CPU is read at both ends. */
        void startWindow(long at) {
            windowStart = at;
            end = at + measureNanos;
            vertx.setTimer(Math.max(1, (at - System.nanoTime()) / 1_000_000), id -> readCpuAtStart());
            vertx.setTimer(Math.max(1, (end - System.nanoTime()) / 1_000_000), id -> readCpuAtEnd());
        }

        /** A closed loop that got fewer answers than clients starts measuring anyway after 30 s more. */
        void armWarmupLimit() {
            vertx.setTimer(Math.max(1, (earliestWindow + MAX_EXTRA_WARMUP_NANOS - System.nanoTime()) / 1_000_000), id -> {
                if (windowStart == Long.MAX_VALUE) {
                    startWindow(System.nanoTime());
                }
            });
        }

        private void readCpuAtStart() {
            if (cpuAtStart == ProcessCpu.Snapshot.NONE) {
                cpuAtStart = ProcessCpu.snapshot(sut.process(), sut.helpers());
            }
        }

        private void readCpuAtEnd() {
            if (cpuAtEnd == ProcessCpu.Snapshot.NONE) {
                readCpuAtStart();
                cpuAtEnd = ProcessCpu.snapshot(sut.process(), sut.helpers());
            }
        }

        Future<Answer> send(long intended) {
            outstanding++;
            RequestOptions options = new RequestOptions().setMethod(target.method()).setURI(target.uri())
                    .setIdleTimeout(TimeUnit.NANOSECONDS.toMillis(MAX_LATENCY_NANOS));
            target.headers().forEach(options::addHeader);
            Future<Answer> answer = client.request(options)
                    .compose(req -> target.body() == null ? req.send() : req.send(target.body()))
                    .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), resp.getHeader("X-Batch-Size"))));
            return answer.onComplete(ar -> {
                outstanding--;
                long now = System.nanoTime();
                answers++;
                if (!openLoop && windowStart == Long.MAX_VALUE && now >= earliestWindow && answers >= clients) {
                    startWindow(now);
                }
                record(intended, now, ar);
                if (!scheduling) {
                    finishIfIdle();
                }
            });
        }

        void notSent(long intended) {
            if (inWindow(intended)) {
                statuses.merge("not sent", 1L, Long::sum);
            }
        }

        private boolean inWindow(long time) {
            return time >= windowStart && time < end;
        }

        /**
         * Counts an answer that belongs to the window: in a closed loop one that arrived in it (what
         * the server delivered meanwhile); in an open loop one whose intended send time is in it, however
         * late it arrived.
         */
        private void record(long intended, long answered, AsyncResult<Answer> ar) {
            if (!inWindow(openLoop ? intended : answered)) {
                return;
            }
            if (ar.failed()) {
                statuses.merge("io", 1L, Long::sum);
                return;
            }
            Answer answer = ar.result();
            if (answer.status() != 200) {
                statuses.merge(Integer.toString(answer.status()), 1L, Long::sum);
                return;
            }
            ok++;
            items += target.items();
            latency.recordValue(Math.min(MAX_LATENCY_NANOS, answered - intended));
            if (answer.batchSize() != null) {
                inverseBatchSizes += 1.0 / Math.max(1, Integer.parseInt(answer.batchSize()));
                batchSizes++;
            }
        }

        /** Done when nothing is in flight and nothing more will be sent (a closed loop sends until {@code end}). */
        void finishIfIdle() {
            if (outstanding == 0 && !scheduling && (openLoop || System.nanoTime() >= end)) {
                readCpuAtEnd();
                done.tryComplete();
            }
        }

        void await() {
            long seconds = TimeUnit.NANOSECONDS.toSeconds(earliestWindow + MAX_EXTRA_WARMUP_NANOS + measureNanos
                    - System.nanoTime()) + 90;
            try {
                done.future().toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                Promise<Void> noted = Promise.promise();
                context.runOnContext(v -> {
                    if (outstanding > 0) {
                        statuses.merge("unfinished", (long) outstanding, Long::sum);
                    }
                    readCpuAtEnd();
                    noted.complete();
                });
                Http.await(noted.future(), "noting unfinished requests");
            } catch (Exception e) {
                throw new IllegalStateException("load run failed", e);
            } finally {
                Http.await(client.close(), "closing the load client");
            }
        }

        LoadResult result(String scenario, String mode, int clients, double rate) {
            double seconds = (end - windowStart) / 1e9;
            long answered = Math.max(1, ok);
            ProcessCpu.Snapshot a = cpuAtStart;
            ProcessCpu.Snapshot b = cpuAtEnd;
            double window = Math.max(1, b.takenNanos() - a.takenNanos());
            Map<String, Double> threads = new HashMap<>();
            b.threadsSince(a).forEach((name, nanos) -> threads.put(name, nanos / 1e6));
            return new LoadResult(sut.name(), scenario, mode, clients, rate, seconds, ok, items, Map.copyOf(statuses),
                    ms(latency.getValueAtPercentile(50)), ms(latency.getValueAtPercentile(99)),
                    ms(latency.getValueAtPercentile(99.9)), ms(latency.getMaxValue()),
                    batchSizes == 0 ? Double.NaN : batchSizes / inverseBatchSizes,
                    (b.processNanos() - a.processNanos()) / 1e6 / answered,
                    (b.childrenNanos() - a.childrenNanos()) / 1e6 / answered,
                    (b.clientNanos() - a.clientNanos()) / 1e6 / answered,
                    (b.processNanos() - a.processNanos() + b.childrenNanos() - a.childrenNanos()) / window,
                    threads);
        }

        private double ms(long nanos) {
            return ok == 0 ? Double.NaN : nanos / 1e6;
        }
    }
}
