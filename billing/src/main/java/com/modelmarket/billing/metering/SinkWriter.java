package com.modelmarket.billing.metering;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One write to the {@link UsageSink} at a time, bounded by {@code writeTimeout} and answered on
 * the meter's context, and whether the sink is up: down after a failure until {@code retryInterval}
 * has passed, with one log line when it goes down and one when it is back. Meter context only.
 */
final class SinkWriter {

    private static final Logger LOG = LoggerFactory.getLogger(UsageMeter.class);

    private final Vertx vertx;
    private final Context context;
    private final UsageSink sink;
    private final UsageMeterOptions options;
    private final MeterCounters counters;
    private final UsageJournal journal;
    private long downSinceNanos = -1;
    private long retryAtNanos;

    SinkWriter(Vertx vertx, Context context, UsageSink sink, UsageMeterOptions options, MeterCounters counters,
               UsageJournal journal) {
        this.vertx = vertx;
        this.context = context;
        this.sink = sink;
        this.options = options;
        this.counters = counters;
        this.journal = journal;
    }

    /** Whether a write may start: the sink is up, or down and its retry is due (then it counts as up again). */
    boolean ready() {
        if (!counters.sinkAvailable) {
            if (System.nanoTime() - retryAtNanos < 0) {
                return false;
            }
            counters.sinkAvailable = true; // a retry is due
        }
        return true;
    }

    boolean available() {
        return counters.sinkAvailable;
    }

    /** The sink's answer on the meter's context, or a failure after {@code writeTimeout}. */
    Future<Void> write(List<UsageCommit> batch) {
        long started = System.nanoTime();
        Future<Void> write;
        try {
            write = sink.write(Collections.unmodifiableList(batch));
        } catch (RuntimeException e) {
            write = Future.failedFuture(e);
        }
        if (write == null) {
            write = Future.failedFuture(new IllegalStateException("usage sink returned no future"));
        }
        Promise<Void> answer = Promise.promise();
        long timer = vertx.setTimer(options.writeTimeout().toMillis(), id -> answer.tryFail(
                new TimeoutException("usage sink did not answer within " + options.writeTimeout())));
        write.onComplete(ar -> context.runOnContext(v -> {
            vertx.cancelTimer(timer);
            if (ar.succeeded()) {
                answer.tryComplete();
            } else {
                answer.tryFail(ar.cause());
            }
        }));
        return answer.future().onComplete(ar -> {
            counters.sinkWrites.incrementAndGet();
            counters.sinkWriteNanos.addAndGet(System.nanoTime() - started);
        });
    }

    /** Writes {@code commits} from index {@code from} in batches of whole commits up to {@code batchSize} records, one after the other. */
    Future<Void> writeAll(List<UsageCommit> commits, int from) {
        if (from >= commits.size()) {
            return Future.succeededFuture();
        }
        int to = from;
        int records = 0;
        while (to < commits.size() && (to == from || records + commits.get(to).size() <= options.batchSize())) {
            records += commits.get(to).size();
            to++;
        }
        int next = to;
        return write(commits.subList(from, to)).compose(v -> writeAll(commits, next));
    }

    /** The sink is down until {@code retryInterval} has passed. */
    void failed(Throwable cause) {
        if (downSinceNanos < 0) {
            downSinceNanos = System.nanoTime();
            LOG.warn("usage sink failed; usage stays in the journal under {}, retrying every {}: {}",
                    options.journalDirectory(), options.retryInterval(), cause.toString());
        } else {
            LOG.debug("usage sink still failing: {}", cause.toString());
        }
        counters.sinkAvailable = false;
        retryAtNanos = System.nanoTime() + options.retryInterval().toNanos();
    }

    void succeeded() {
        if (downSinceNanos >= 0) {
            LOG.info("usage sink is back after {} ms; {} records wait in the journal",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downSinceNanos), journal.pendingRecords());
            downSinceNanos = -1;
        }
    }
}
