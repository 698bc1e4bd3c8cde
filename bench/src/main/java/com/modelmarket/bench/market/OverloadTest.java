package com.modelmarket.bench.market;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Overload: an open-loop arrival rate of several times what the server sustains, for a minute.
 * A server that sheds load answers the excess with 503 at once, keeps its heap bounded and
 * serves normally afterwards. The heap is sampled with {@code jcmd GC.heap_info} every 5 s and
 * the resident set every second; a closed-loop run before and after shows the recovery.
 */
final class OverloadTest {

    /** What happened. */
    record Result(String scenario, double sustainedPerSecond, LoadResult overload, LoadResult before,
                  LoadResult after, List<Long> heapUsedBytes, long heapMaxBytes, long rssMaxBytes, long rssAfterBytes) {

        double shedShare() {
            long shed = overload.statuses().getOrDefault("503", 0L);
            long all = overload.ok() + overload.failed();
            return all == 0 ? 0 : (double) shed / all;
        }

        JsonObject toJson() {
            return new JsonObject().put("scenario", scenario).put("sustainedPerSecond", sustainedPerSecond)
                    .put("overload", overload.toJson()).put("before", before.toJson()).put("after", after.toJson())
                    .put("heapUsedBytes", new JsonArray(new ArrayList<>(heapUsedBytes))).put("heapMaxBytes", heapMaxBytes)
                    .put("rssMaxBytes", rssMaxBytes).put("rssAfterBytes", rssAfterBytes).put("shedShare", shedShare());
        }
    }

    private OverloadTest() {
    }

    static Result run(LoadGenerator load, ServerProcess server, String scenario, LoadTarget target,
                      double sustainedPerSecond, BenchOptions options) {
        int clients = 16;
        LoadResult before = load.closed(server, scenario, target, clients, options.warmup(scenario), options.measure(scenario));
        List<Long> heap = java.util.Collections.synchronizedList(new ArrayList<>());
        long[] rss = {0};
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> rss[0] = Math.max(rss[0], ProcessCpu.rssBytes(server.process().pid())),
                0, 1, TimeUnit.SECONDS);
        sampler.scheduleWithFixedDelay(() -> {
            long used = server.heapUsedBytes();
            if (used >= 0) {
                heap.add(used);
            }
        }, 0, 5, TimeUnit.SECONDS);
        LoadResult overload;
        try {
            overload = load.open(server, scenario + " overload", target, options.overloadFactor() * sustainedPerSecond,
                    512, Duration.ofSeconds(5), options.overloadDuration());
        } finally {
            sampler.shutdownNow();
            awaitQuietly(sampler);
        }
        ManagedProcess.sleep(5000);
        LoadResult after = load.closed(server, scenario, target, clients, options.warmup(scenario), options.measure(scenario));
        long heapMax = heap.stream().mapToLong(Long::longValue).max().orElse(-1);
        return new Result(scenario, sustainedPerSecond, overload, before, after, List.copyOf(heap), heapMax, rss[0],
                ProcessCpu.rssBytes(server.process().pid()));
    }

    private static void awaitQuietly(ScheduledExecutorService sampler) {
        try {
            sampler.awaitTermination(70, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
