package com.modelmarket.marketplace.metering;

import com.modelmarket.billing.metering.UsageMeter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The usage meter's figures on {@code /metrics}, read from {@link UsageMeter#stats()} at scrape
 * time (billing knows no metrics library). Prometheus names: {@code modelmarket_usage_records_*_total},
 * {@code modelmarket_usage_window_records}, {@code modelmarket_usage_journal_bytes},
 * {@code modelmarket_usage_sink_write_seconds_{count,sum}}.
 */
public final class MeteringMetrics {

    private static final String PREFIX = "modelmarket.usage.";

    private MeteringMetrics() {
    }

    public static void bind(UsageMeter meter, MeterRegistry registry) {
        counter(registry, meter, "records.accepted", "usage records taken for calls let through", m -> m.stats().accepted());
        counter(registry, meter, "records.durable", "usage records fsynced to the journal or stored in the database", m -> m.stats().durable());
        counter(registry, meter, "records.written", "usage records the database confirmed (replays included)", m -> m.stats().written());
        counter(registry, meter, "records.replayed", "usage records written from the journal", m -> m.stats().replayed());
        counter(registry, meter, "records.refused", "calls refused with 503 metering-backlog", m -> m.stats().refused());
        counter(registry, meter, "records.lost.at.close", "usage records neither journaled nor written at close (a failing disk)",
                m -> m.stats().lostAtClose());
        Gauge.builder(PREFIX + "window.records", meter, m -> m.stats().window())
                .description("usage records in memory: reserved, not yet durable, or waiting for the database").register(registry);
        Gauge.builder(PREFIX + "journal.records", meter, m -> m.stats().journaled())
                .description("usage records in the journal the database has not confirmed").register(registry);
        Gauge.builder(PREFIX + "journal.bytes", meter, m -> m.stats().journalBytes())
                .description("bytes of the usage journal files").baseUnit("bytes").register(registry);
        Gauge.builder(PREFIX + "back.pressure", meter, m -> m.stats().backPressure() ? 1 : 0)
                .description("1 while calls are refused because usage is not becoming durable fast enough").register(registry);
        FunctionTimer.builder(PREFIX + "sink.write", meter, m -> m.stats().sinkWrites(), m -> m.stats().sinkWriteNanos(),
                        TimeUnit.NANOSECONDS)
                .description("writes of usage batches to the database, failures and timeouts included").register(registry);
    }

    private static void counter(MeterRegistry registry, UsageMeter meter, String name, String description,
                                ToDoubleFunction<UsageMeter> value) {
        FunctionCounter.builder(PREFIX + name, meter, value).description(description).register(registry);
    }
}
