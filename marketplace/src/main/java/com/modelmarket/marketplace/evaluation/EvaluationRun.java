package com.modelmarket.marketplace.evaluation;

import com.modelmarket.marketplace.inference.InferenceService;
import com.modelmarket.marketplace.inference.InferenceTarget;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.training.CsvDataset;
import io.vertx.core.Context;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * One version's pass over a dataset's rows, driven from an evaluation thread: the rows go in
 * requests of {@code rowsPerRequest} through {@link InferenceService#evaluate} — the serving
 * engine's batching path, beside every other caller — with at most {@code inFlight} requests in
 * the engine at once, so the batcher merges them into batches while the job never floods the queue.
 * The thread only waits for a free place in that window (never an event loop: the requests are
 * submitted on, and complete on, a Vert.x context, whose callbacks only copy the outputs). A
 * request the engine refuses because its queue is full is tried again a little later; any other
 * failure ends the run.
 */
final class EvaluationRun {

    /** How often a refused (queue-full) request is tried again before the run gives up. */
    private static final int MAX_RETRIES = 20;

    /** The run was stopped before every row had its answer: cancelled, past its time limit, or a request failed. */
    static final class Stopped extends Exception {
        private final boolean cancelled;

        Stopped(String message, boolean cancelled, Throwable cause) {
            super(message, cause, false, false);
            this.cancelled = cancelled;
        }

        boolean cancelled() {
            return cancelled;
        }
    }

    /** A finished run: every row's output scores (one value per row for regression) and how it was served. */
    record Outcome(double[][] scores, JsonObject serving) {
    }

    private record Chunk(int from, int to, int attempt) {
    }

    private final InferenceService inference;
    private final Context context;
    private final int inFlight;
    private final int rowsPerRequest;

    EvaluationRun(InferenceService inference, Context context, int inFlight, int rowsPerRequest) {
        this.inference = inference;
        this.context = context;
        this.inFlight = inFlight;
        this.rowsPerRequest = rowsPerRequest;
    }

    /**
     * Runs every row of {@code data} through {@code target}; blocks the calling (evaluation) thread
     * until all answers are in. {@code stop} is looked at between requests: a non-null reason stops
     * the run ({@code cancelled} says whether it was the caller's cancel).
     */
    Outcome run(UUID tenantId, UUID jobId, InferenceTarget target, ColumnMapping mapping, CsvDataset data,
                BooleanSupplier cancelled, long deadlineNanos, IntConsumer progress) throws Stopped, InterruptedException {
        int rows = data.rowCount();
        int requests = (rows + rowsPerRequest - 1) / rowsPerRequest;
        double[][] scores = new double[rows][];
        ServingStats stats = new ServingStats(requests);
        Semaphore window = new Semaphore(inFlight);
        ConcurrentLinkedQueue<Chunk> retries = new ConcurrentLinkedQueue<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        String output = mapping.output().name();
        long started = System.nanoTime();
        int next = 0;
        int sequence = 0;
        try {
            while (true) {
                if (failure.get() != null) {
                    throw new Stopped("the model failed: " + failure.get().getMessage(), false, failure.get());
                }
                if (cancelled.getAsBoolean()) {
                    throw new Stopped("cancelled", true, null);
                }
                if (System.nanoTime() - deadlineNanos > 0) {
                    throw new Stopped("time limit", false, null);
                }
                Chunk chunk = retries.poll();
                if (chunk == null && next < rows) {
                    chunk = new Chunk(next, Math.min(rows, next + rowsPerRequest), 0);
                    next = chunk.to();
                }
                if (chunk == null) {
                    // everything is sent: wait for the last answers (a refused one comes back as a retry first)
                    if (window.tryAcquire(inFlight, 50, TimeUnit.MILLISECONDS)) {
                        window.release(inFlight);
                        if (retries.isEmpty()) {
                            break;
                        }
                    }
                    continue;
                }
                if (chunk.attempt() > 0) {
                    Thread.sleep(Math.min(500, 20L * chunk.attempt())); // the queue was full: let it drain
                }
                boolean placed;
                while (!(placed = window.tryAcquire(100, TimeUnit.MILLISECONDS))) {
                    if (cancelled.getAsBoolean() || failure.get() != null || System.nanoTime() - deadlineNanos > 0) {
                        break;
                    }
                }
                if (!placed) {
                    retries.add(chunk); // stopping: the checks at the top say why
                    continue;
                }
                submit(tenantId, jobId + "/" + target.version().version() + "/" + sequence++, target, mapping, data, chunk,
                        output, scores, stats, window, retries, failure);
                progress.accept(Math.min(rows, stats.requests() * rowsPerRequest));
            }
            if (failure.get() != null) {
                throw new Stopped("the model failed: " + failure.get().getMessage(), false, failure.get());
            }
            progress.accept(rows);
            return new Outcome(scores, stats.toJson(rows, System.nanoTime() - started));
        } finally {
            // a run that stops still lets its requests in the engine finish (each is metered like any): wait for them
            window.tryAcquire(inFlight, 2, TimeUnit.MINUTES);
        }
    }

    private void submit(UUID tenantId, String requestId, InferenceTarget target, ColumnMapping mapping, CsvDataset data,
                        Chunk chunk, String output, double[][] scores, ServingStats stats, Semaphore window,
                        ConcurrentLinkedQueue<Chunk> retries, AtomicReference<Throwable> failure) {
        List<Tensor> inputs = mapping.tensors(data, chunk.from(), chunk.to());
        context.runOnContext(v -> {
            long submitted = System.nanoTime();
            inference.evaluate(tenantId, requestId, target, inputs).onComplete(ar -> {
                try {
                    if (ar.succeeded()) {
                        InferenceResult result = ar.result();
                        copy(result.output(output), chunk, scores);
                        stats.served(System.nanoTime() - submitted, result.facts().batchSize(), result.facts().computeNanos());
                    } else if (ar.cause() instanceof OverloadedException && chunk.attempt() < MAX_RETRIES) {
                        retries.add(new Chunk(chunk.from(), chunk.to(), chunk.attempt() + 1));
                    } else {
                        failure.compareAndSet(null, ar.cause());
                    }
                } catch (RuntimeException e) {
                    failure.compareAndSet(null, e);
                } finally {
                    window.release();
                }
            });
        });
    }

    /** Each row's values of the output, as doubles. */
    private static void copy(Tensor out, Chunk chunk, double[][] scores) {
        int n = chunk.to() - chunk.from();
        int per = (int) (out.elementCount() / n);
        for (int r = 0; r < n; r++) {
            double[] row = new double[per];
            for (int j = 0; j < per; j++) {
                row[j] = out.getAsDouble(r * per + j);
            }
            scores[chunk.from() + r] = row;
        }
    }
}
