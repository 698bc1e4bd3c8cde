package com.modelmarket.bench.market;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one load run measured.
 *
 * @param system the server under test ({@code batching on}, {@code peer}, …)
 * @param scenario what was asked ({@code light json}, {@code key-info})
 * @param mode {@code closed} (clients wait for each answer) or {@code open} (fixed arrival rate)
 * @param clients concurrent clients (closed loop) or connections (open loop)
 * @param offeredPerSecond the arrival rate of an open-loop run; 0 for closed loop
 * @param ok answers with status 200 in the measured window (closed loop: that arrived in it; open
 *     loop: whose requests were due in it)
 * @param statuses other statuses and their counts ({@code 503}; {@code io} for failed connections;
 *     {@code not sent} for open-loop requests the client could not send in time)
 * @param itemsPerPass items per forward pass, from {@code X-Batch-Size} (requests over the sum of
 *     1/size: each batch counted once); NaN when the server sends no such header
 * @param serverCpuMsPerRequest CPU of the server process (all its threads) per answered request
 * @param childCpuMsPerRequest CPU of the server's child processes (embedded PostgreSQL) per request
 * @param clientCpuMsPerRequest CPU of this load generator per request
 * @param serverCores the server's CPU use in cores over the window (process and children)
 * @param threadCpuMs the server's CPU per thread group over the window, in ms
 */
record LoadResult(String system, String scenario, String mode, int clients, double offeredPerSecond,
                  double seconds, long ok, long items, Map<String, Long> statuses, double p50Ms, double p99Ms,
                  double p999Ms, double maxMs, double itemsPerPass, double serverCpuMsPerRequest,
                  double childCpuMsPerRequest, double clientCpuMsPerRequest, double serverCores,
                  Map<String, Double> threadCpuMs) {

    double requestsPerSecond() {
        return ok / seconds;
    }

    double itemsPerSecond() {
        return items / seconds;
    }

    long failed() {
        return statuses.values().stream().mapToLong(Long::longValue).sum();
    }

    JsonObject toJson() {
        JsonObject threads = new JsonObject();
        new TreeMap<>(threadCpuMs).forEach(threads::put);
        JsonObject other = new JsonObject();
        new TreeMap<>(statuses).forEach(other::put);
        return new JsonObject().put("system", system).put("scenario", scenario).put("mode", mode)
                .put("clients", clients).put("offeredPerSecond", offeredPerSecond).put("seconds", seconds)
                .put("ok", ok).put("items", items).put("requestsPerSecond", requestsPerSecond())
                .put("itemsPerSecond", itemsPerSecond()).put("statuses", other)
                .put("p50Ms", p50Ms).put("p99Ms", p99Ms).put("p999Ms", p999Ms).put("maxMs", maxMs)
                .put("itemsPerPass", Double.isNaN(itemsPerPass) ? null : itemsPerPass)
                .put("serverCpuMsPerRequest", serverCpuMsPerRequest).put("childCpuMsPerRequest", childCpuMsPerRequest)
                .put("clientCpuMsPerRequest", clientCpuMsPerRequest).put("serverCores", serverCores)
                .put("threadCpuMs", threads);
    }
}
