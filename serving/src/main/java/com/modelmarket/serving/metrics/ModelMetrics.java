package com.modelmarket.serving.metrics;

import com.modelmarket.serving.HostStatus;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.RequestOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Micrometer meters of one model version, tagged {@code model} and {@code version}:
 *
 * <ul>
 *   <li>{@code modelmarket.serving.queue.depth} (gauge, items waiting) and {@code
 *       modelmarket.serving.workers} (gauge)
 *   <li>{@code modelmarket.serving.batch.size} (distribution of items per forward pass)
 *   <li>{@code modelmarket.serving.queue.latency} (per request) and {@code
 *       modelmarket.serving.compute.latency} (per batch) timers
 *   <li>{@code modelmarket.serving.requests} counter, tagged {@code outcome}
 *   <li>{@code modelmarket.serving.load.latency} timer, tagged {@code cold}
 *   <li>{@code modelmarket.serving.workers.replaced} counter, tagged {@code reason} ({@code stuck}:
 *       a batch ran far past its deadline; {@code broken}: the worker failed with an error)
 *   <li>{@code modelmarket.serving.workers.stuck} (gauge, abandoned workers still in a forward pass)
 *       and {@code modelmarket.serving.batch.cap} (gauge, the batch size cap after calibration)
 * </ul>
 *
 * {@link #close()} removes them from the registry.
 */
public final class ModelMetrics implements AutoCloseable {

    public static final String PREFIX = "modelmarket.serving.";

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private final DistributionSummary batchSize;
    private final Timer queueLatency;
    private final Timer computeLatency;
    private final Map<RequestOutcome, Counter> requests = new EnumMap<>(RequestOutcome.class);
    private final Counter replacedStuck;
    private final Counter replacedBroken;

    /**
     * The engine-wide gauges of the model hosts: {@code modelmarket.serving.hosts} (running
     * processes) and {@code modelmarket.serving.hosts.resident} (their resident bytes).
     */
    public static void hostGauges(MeterRegistry registry, Supplier<List<HostStatus>> hosts) {
        Gauge.builder(PREFIX + "hosts", hosts, h -> h.get().size())
                .description("running model-host processes").strongReference(true).register(registry);
        Gauge.builder(PREFIX + "hosts.resident", hosts,
                        h -> h.get().stream().mapToLong(HostStatus::residentBytes).sum())
                .baseUnit("bytes").description("resident memory of all model hosts").strongReference(true)
                .register(registry);
    }

    public ModelMetrics(MeterRegistry registry, ModelKey key) {
        this.registry = registry;
        this.tags = Tags.of("model", key.model(), "version", key.version());
        batchSize =
                keep(DistributionSummary.builder(PREFIX + "batch.size")
                        .description("Items per forward pass")
                        .baseUnit("items")
                        .tags(tags)
                        .publishPercentileHistogram()
                        .register(registry));
        queueLatency =
                keep(Timer.builder(PREFIX + "queue.latency")
                        .description("Time a request waited before its batch started")
                        .tags(tags)
                        .publishPercentileHistogram()
                        .register(registry));
        computeLatency =
                keep(Timer.builder(PREFIX + "compute.latency")
                        .description("Time one batch took to compute")
                        .tags(tags)
                        .publishPercentileHistogram()
                        .register(registry));
        for (RequestOutcome outcome : RequestOutcome.values()) {
            requests.put(outcome, keep(Counter.builder(PREFIX + "requests")
                    .description("Finished requests by outcome")
                    .tags(tags.and("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT)))
                    .register(registry)));
        }
        replacedStuck = keep(replacedCounter("stuck"));
        replacedBroken = keep(replacedCounter("broken"));
    }

    private Counter replacedCounter(String reason) {
        return Counter.builder(PREFIX + "workers.replaced")
                .description("Workers taken out of service and replaced")
                .tags(tags.and("reason", reason))
                .register(registry);
    }

    /** Registers the gauges; the suppliers are read whenever the registry publishes. */
    public void gauges(Supplier<Number> queueDepth, Supplier<Number> workers, Supplier<Number> stuckWorkers,
            Supplier<Number> batchCap) {
        keep(Gauge.builder(PREFIX + "queue.depth", queueDepth)
                .description("Items waiting for a worker")
                .baseUnit("items")
                .tags(tags)
                .register(registry));
        keep(Gauge.builder(PREFIX + "workers", workers)
                .description("Running workers (predictors)")
                .tags(tags)
                .register(registry));
        keep(Gauge.builder(PREFIX + "workers.stuck", stuckWorkers)
                .description("Workers abandoned in a forward pass that has not returned yet")
                .tags(tags)
                .register(registry));
        keep(Gauge.builder(PREFIX + "batch.cap", batchCap)
                .description("Most items per forward pass, after calibration")
                .baseUnit("items")
                .tags(tags)
                .register(registry));
    }

    /** A worker was taken out of service: stuck in a forward pass, or broken by an error. */
    public void workerReplaced(boolean stuck) {
        (stuck ? replacedStuck : replacedBroken).increment();
    }

    /** Workers replaced so far, for whatever reason. */
    public long workersReplaced() {
        return (long) (replacedStuck.count() + replacedBroken.count());
    }

    public void batch(int items, long computeNanos) {
        batchSize.record(items);
        computeLatency.record(computeNanos, TimeUnit.NANOSECONDS);
    }

    public void request(RequestOutcome outcome, long queueNanos, boolean ran) {
        requests.get(outcome).increment();
        if (ran) {
            queueLatency.record(queueNanos, TimeUnit.NANOSECONDS);
        }
    }

    public void load(long nanos, boolean cold) {
        keep(Timer.builder(PREFIX + "load.latency")
                .description("Time to validate, load and warm up the model")
                .tags(tags.and("cold", String.valueOf(cold)))
                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    private <M extends Meter> M keep(M meter) {
        synchronized (meters) {
            if (!meters.contains(meter)) {
                meters.add(meter);
            }
        }
        return meter;
    }

    @Override
    public void close() {
        synchronized (meters) {
            meters.forEach(registry::remove);
            meters.clear();
        }
    }
}
