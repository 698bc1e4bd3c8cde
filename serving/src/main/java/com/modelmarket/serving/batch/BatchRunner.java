package com.modelmarket.serving.batch;

import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.metrics.ModelMetrics;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Runs a {@link Batcher}'s batches: starts each on its worker, watched by the {@link
 * StuckWorkerPolicy}, and settles it when it ends. A batch that ends in service answers its
 * requests ({@link RunningBatches}); one whose worker was declared stuck only gives its slot back.
 *
 * <p>{@link #launchLocked} is called under the batcher's lock. The end of a batch comes on the
 * worker's thread: its result is read outside the lock ({@link BatchResult}), then the handler
 * takes the batcher's lock itself, like the batcher's timers, decides, and acts after releasing it.
 */
final class BatchRunner {

    private static final AtomicLong BATCH_IDS = new AtomicLong();

    private final Object lock;
    private final ModelKey key;
    private final ModelMetrics metrics;
    private final StuckWorkerPolicy stuck;
    private final RunningBatches running;
    private final DeadlineWatch deadlines;
    private final Consumer<Effects> topUp;
    private final Consumer<Effects> dispatch;

    /**
     * @param lock the batcher, whose lock guards all of this
     * @param topUp the batcher's top-up to the minimum workers, after a worker left service
     * @param dispatch the batcher's dispatch, after a worker or its slot came back
     */
    BatchRunner(Object lock, ModelKey key, ModelMetrics metrics, StuckWorkerPolicy stuck,
            RunningBatches running, DeadlineWatch deadlines, Consumer<Effects> topUp,
            Consumer<Effects> dispatch) {
        this.lock = lock;
        this.key = key;
        this.metrics = metrics;
        this.stuck = stuck;
        this.running = running;
        this.deadlines = deadlines;
        this.topUp = topUp;
        this.dispatch = dispatch;
    }

    /** Starts {@code members} ({@code items} items, already out of the queue) on {@code worker} once the lock is released. */
    void launchLocked(Effects fx, List<PendingRequest> members, int items, BatchWorker worker, long now) {
        running.start(members, now);
        Batch batch = new Batch(BATCH_IDS.incrementAndGet(), members, items);
        StuckWorkerPolicy.InFlight f = stuck.started(batch, worker, now);
        deadlines.watch(f.stuckAtNanos);
        fx.act(() -> run(f, batch));
    }

    private void run(StuckWorkerPolicy.InFlight f, Batch batch) {
        Future<BatchOutput> output;
        try {
            output = f.worker.run(batch);
        } catch (RuntimeException | Error e) { // NOPMD: a worker that throws must not leave the batch hanging
            output = Future.failedFuture(e);
        }
        output.onComplete(ar -> batchDone(f, batch, ar));
    }

    private void batchDone(StuckWorkerPolicy.InFlight f, Batch batch, AsyncResult<BatchOutput> ar) {
        f.ended.tryComplete();
        Effects late = new Effects();
        boolean inService;
        synchronized (lock) {
            inService = stuck.ended(late, f, batch);
            if (!inService) { // its callers were answered long ago: only its slot comes back
                topUp.accept(late);
                dispatch.accept(late);
            }
        }
        if (!inService) {
            late.run();
            return;
        }
        BatchResult result = BatchResult.of(key, batch, ar, f.startedNanos);
        metrics.batch(batch.items(), result.computeNanos());
        Effects fx = new Effects();
        synchronized (lock) {
            if (running.finish(fx, f.worker, batch, result)) {
                topUp.accept(fx); // a broken worker is replaced
            }
            dispatch.accept(fx);
        }
        fx.run();
    }
}
