package com.modelmarket.serving.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.RequestOutcome;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.metrics.ModelMetrics;
import com.modelmarket.serving.model.Tensor;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The batching rules, exactly, with workers the test controls (no model, no timing races). */
class BatcherTest {

    private static final ModelKey KEY = new ModelKey("tests", "echo", "1");

    private Vertx vertx;
    private Context context;
    private final Queue<RequestFacts> facts = new ConcurrentLinkedQueue<>();
    private final AtomicInteger scaleRequests = new AtomicInteger();
    private Batcher batcher;
    private final FaultScaler faults = new FaultScaler();

    /** Counts worker starts and records the workers taken out of service, with spares to lend. */
    final class FaultScaler implements Batcher.Scaler {
        final List<BatchWorker> stopped = Collections.synchronizedList(new ArrayList<>());
        final List<Future<Void>> stopAfter = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger sparesLeft = new AtomicInteger(1);

        @Override
        public void startWorker() {
            scaleRequests.incrementAndGet();
        }

        @Override
        public void stopWorker(BatchWorker worker, Future<Void> after) {
            stopped.add(worker);
            stopAfter.add(after);
        }

        @Override
        public boolean lendSpare(BatchWorker stuck) {
            return sparesLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
        }

        @Override
        public void returnSpare() {
            sparesLeft.incrementAndGet();
        }
    }

    /** Echoes its merged input back as output "y", once its gate is open. */
    static final class EchoWorker implements BatchWorker {
        final List<List<Integer>> batches = Collections.synchronizedList(new ArrayList<>());
        Promise<Void> gate = Promise.promise();
        volatile float failOn = Float.NaN;
        volatile float breakOn = Float.NaN;

        EchoWorker open() {
            gate.tryComplete();
            return this;
        }

        @Override
        public Future<BatchOutput> run(Batch batch) {
            List<Integer> sizes = new ArrayList<>();
            batch.requests().forEach(r -> sizes.add(r.items()));
            batches.add(sizes);
            return gate.future().map(v -> {
                Tensor x = batch.mergedInputs().get(0);
                for (float f : x.toFloats()) {
                    if (f == failOn) {
                        throw new IllegalStateException("model bug on " + f);
                    }
                    if (f == breakOn) {
                        throw new StackOverflowError("worker broken on " + f);
                    }
                }
                return new BatchOutput(List.of(x.withName("y")), 1_000_000);
            });
        }
    }

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        context = vertx.getOrCreateContext();
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private Batcher batcher(PoolConfig config) {
        batcher = new Batcher(vertx, KEY, config, scaleRequests::incrementAndGet,
                new ModelMetrics(new SimpleMeterRegistry(), KEY), facts::add);
        batcher.modelLoaded();
        return batcher;
    }

    private static PoolConfig config(int maxBatchSize, long delayMs, int maxQueue) {
        return PoolConfig.defaults().withWorkers(1, 1)
                .withBatching(maxBatchSize, Duration.ofMillis(delayMs)).withMaxQueue(maxQueue);
    }

    private EchoWorker worker() {
        EchoWorker w = new EchoWorker();
        batcher.expectWorkers(1);
        batcher.workerStarted(w);
        return w;
    }

    /** A request of {@code items} rows of {@code width} floats, all equal to {@code value}. */
    private Future<InferenceResult> submit(int items, int width, float value, long timeoutMs) {
        float[] data = new float[items * width];
        java.util.Arrays.fill(data, value);
        long deadline = timeoutMs < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutMs * 1_000_000;
        return batcher.submit(List.of(Tensor.ofFloats("x", new long[] {items, width}, data)),
                List.of(), items, deadline, context);
    }

    private Future<InferenceResult> submit(int items, float value) {
        return submit(items, 2, value, -1);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static Throwable failure(Future<?> f) throws Exception {
        try {
            await(f);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected a failure");
    }

    private static void assertEcho(InferenceResult r, int items, float value) {
        Tensor y = r.output("y");
        assertEquals(items, y.dim(0));
        for (float f : y.toFloats()) {
            assertEquals(value, f);
        }
    }

    @Test
    @DisplayName("a request that finds a free worker and an empty queue is handed over at once")
    void idleRequestRunsAtOnce() throws Exception {
        batcher(config(32, 5000, 100));
        EchoWorker w = worker().open();
        Future<InferenceResult> r = submit(1, 7f);
        assertEquals(List.of(List.of(1)), w.batches, "dispatched inside submit(), before any timer");
        assertEcho(await(r), 1, 7f);
    }

    @Test
    @DisplayName("queued requests merge by items up to maxBatchSize, only with the same signature")
    void mergesCompatibleRequestsByItems() throws Exception {
        batcher(config(5, 0, 100));
        EchoWorker w = worker();
        Future<InferenceResult> a = submit(1, 1f);
        Future<InferenceResult> b = submit(2, 2f);
        Future<InferenceResult> c = submit(1, 3, 3f, -1); // 3 wide: another signature
        Future<InferenceResult> d = submit(3, 4f);
        Future<InferenceResult> e = submit(2, 5f);
        Future<InferenceResult> big = submit(7, 6f);
        assertEquals(1, w.batches.size(), "the worker is busy with a");
        w.open();
        assertEcho(await(a), 1, 1f);
        assertEcho(await(b), 2, 2f);
        assertEcho(await(d), 3, 4f);
        assertEcho(await(e), 2, 5f);
        assertEcho(await(big), 7, 6f);
        Tensor cy = await(c).output("y");
        assertArrayEquals(new long[] {1, 3}, cy.shape());
        // b+d fill 5 items; c cannot join them; e does not fit; a 7-item request runs alone
        assertEquals(List.of(List.of(1), List.of(2, 3), List.of(1), List.of(2), List.of(7)),
                w.batches);
        assertEquals(5, await(b).facts().batchSize());
        assertEquals(await(b).facts().batchId(), await(d).facts().batchId());
        assertEquals(1, await(c).facts().batchSize());
        assertEquals(7, await(big).facts().batchSize());
    }

    @Test
    @DisplayName("a partial batch of requests that queued behind busy workers waits until full")
    void partialBatchWaitsToFill() throws Exception {
        batcher(config(4, 60_000, 100));
        EchoWorker w = worker();
        Future<InferenceResult> a = submit(1, 1f);
        Future<InferenceResult> b = submit(1, 2f);
        w.open();
        await(a);
        assertEquals(1, w.batches.size(), "b lingers: it queued behind a busy worker");
        Future<InferenceResult> c = submit(2, 3f);
        assertEquals(1, w.batches.size());
        Future<InferenceResult> d = submit(1, 4f);
        assertEquals(List.of(List.of(1), List.of(1, 2, 1)), w.batches, "full: dispatched at once");
        assertEcho(await(b), 1, 2f);
        assertEcho(await(c), 2, 3f);
        assertEcho(await(d), 1, 4f);
        Future<InferenceResult> e = submit(1, 5f);
        assertEquals(3, w.batches.size(), "idle again: no waiting");
        await(e);
    }

    @Test
    @DisplayName("a lingering batch leaves once its oldest request has waited maxBatchDelay")
    void lingerEndsAtMaxBatchDelay() throws Exception {
        batcher(config(8, 100, 100));
        EchoWorker w = worker();
        Future<InferenceResult> a = submit(1, 1f);
        Future<InferenceResult> b = submit(1, 2f);
        w.open();
        await(a);
        InferenceResult rb = await(b);
        assertEquals(2, w.batches.size());
        assertTrue(rb.facts().queueNanos() >= 90_000_000L,
                "waited " + rb.facts().queueNanos() / 1_000_000 + " ms");
    }

    /** Three requests computed together (queued before the worker started), then answered. */
    private EchoWorker afterBatchOfThree() throws Exception {
        Future<InferenceResult> a = submit(1, 1f);
        Future<InferenceResult> b = submit(1, 2f);
        Future<InferenceResult> c = submit(1, 3f);
        EchoWorker w = worker().open();
        await(a);
        await(b);
        await(c);
        assertEquals(List.of(List.of(1, 1, 1)), w.batches);
        return w;
    }

    @Test
    @DisplayName("under load, an arrival at an idle worker gathers the callers coming back, up to as many as computed")
    void idleArrivalGathersReturningCallers() throws Exception {
        batcher(config(8, 1000, 100));
        batcher.useCalibration(5.0, Integer.MAX_VALUE); // one item alone: 200 ms
        EchoWorker w = afterBatchOfThree();
        Future<InferenceResult> d = submit(1, 4f);
        assertEquals(1, w.batches.size(), "d waits for the others: three were computing");
        Future<InferenceResult> e = submit(1, 5f);
        assertEquals(1, w.batches.size());
        Future<InferenceResult> f = submit(1, 6f);
        assertEquals(List.of(List.of(1, 1, 1), List.of(1, 1, 1)), w.batches, "three back: dispatched at once");
        assertEcho(await(d), 1, 4f);
        assertEcho(await(e), 1, 5f);
        assertEcho(await(f), 1, 6f);
    }

    @Test
    @DisplayName("the gathering ends maxBatchDelay after the worker became free")
    void gatheringEndsAfterMaxBatchDelay() throws Exception {
        batcher(config(8, 300, 100));
        batcher.useCalibration(5.0, Integer.MAX_VALUE);
        EchoWorker w = afterBatchOfThree();
        Future<InferenceResult> d = submit(1, 4f);
        Future<InferenceResult> e = submit(1, 5f);
        InferenceResult rd = await(d);
        await(e);
        assertEquals(List.of(List.of(1, 1, 1), List.of(1, 1)), w.batches);
        long waitedMs = rd.facts().queueNanos() / 1_000_000;
        assertTrue(waitedMs >= 290 && waitedMs < 3000, "waited " + waitedMs + " ms");
    }

    @Test
    @DisplayName("a lone caller, and models whose single item is cheaper than a timer tick, never gather")
    void loneCallersAndCheapModelsDoNotGather() throws Exception {
        batcher(config(8, 1000, 100));
        batcher.useCalibration(5.0, Integer.MAX_VALUE);
        EchoWorker w = worker().open();
        await(submit(1, 1f));
        Future<InferenceResult> b = submit(1, 2f);
        assertEquals(2, w.batches.size(), "one request was computing before: b runs at once");
        await(b);

        batcher(config(8, 1000, 100));
        batcher.useCalibration(10_000.0, Integer.MAX_VALUE); // 0.1 ms alone: not worth a timer
        EchoWorker cheap = afterBatchOfThree();
        Future<InferenceResult> d = submit(1, 4f);
        assertEquals(2, cheap.batches.size(), "d runs at once");
        await(d);
    }

    /** Two requests computing on a gated first worker, and an idle second worker. */
    private EchoWorker[] twoWorkersFirstBusy() {
        Future<InferenceResult> a = submit(1, 1f);
        Future<InferenceResult> b = submit(1, 2f);
        EchoWorker first = worker();
        assertEquals(List.of(List.of(1, 1)), first.batches);
        EchoWorker second = worker().open();
        return new EchoWorker[] {first, second};
    }

    @Test
    @DisplayName("a partial batch of a costly model is not queued behind batches that fill the runtime's compute threads")
    void partialBatchIsHeldWhileComputeIsFull() throws Exception {
        batcher(PoolConfig.defaults().withWorkers(1, 2).withBatching(8, Duration.ofMillis(50)).withMaxQueue(100));
        batcher.useCalibration(5.0, 1);
        EchoWorker[] w = twoWorkersFirstBusy();
        Future<InferenceResult> c = submit(1, 3f);
        Thread.sleep(200); // four times maxBatchDelay
        assertEquals(List.of(), w[1].batches, "c is held: the runtime's one compute thread is taken");
        assertEquals(1, w[0].batches.size());
        Future<InferenceResult> d = submit(1, 4f);
        w[0].open();
        assertEcho(await(c), 1, 3f);
        assertEcho(await(d), 1, 4f);
        assertEquals(2, w[0].batches.size() + w[1].batches.size(), "c and d ran together, once the first batch ended");
        assertEquals(2, await(c).facts().batchSize());
    }

    @Test
    @DisplayName("with compute threads to spare, or uncalibrated, the second worker takes a partial batch after maxBatchDelay")
    void partialBatchUsesASpareComputeThread() throws Exception {
        for (int parallelism : new int[] {2, 0}) {
            batcher(PoolConfig.defaults().withWorkers(1, 2).withBatching(8, Duration.ofMillis(50)).withMaxQueue(100));
            if (parallelism > 0) {
                batcher.useCalibration(5.0, parallelism);
            }
            EchoWorker[] w = twoWorkersFirstBusy();
            Future<InferenceResult> c = submit(1, 3f);
            assertEcho(await(c), 1, 3f);
            assertEquals(List.of(List.of(1)), w[1].batches, "parallelism " + parallelism);
            w[0].open();
        }
    }

    @Test
    @DisplayName("past maxQueue items a request fails at once as overloaded, with a retry-after hint")
    void fullQueueOverloads() throws Exception {
        batcher(config(1, 0, 3));
        EchoWorker w = worker();
        Future<InferenceResult> running = submit(1, 1f);
        Future<InferenceResult> queued = submit(2, 2f);
        Future<InferenceResult> refused = submit(2, 3f);
        OverloadedException e = assertInstanceOf(OverloadedException.class, failure(refused));
        assertTrue(e.retryAfter().compareTo(Duration.ofSeconds(1)) >= 0);
        assertEquals(1, w.batches.size(), "refused without waiting for the worker");
        w.open();
        await(running);
        await(queued);
        assertEquals(1, facts.stream().filter(f -> f.outcome() == RequestOutcome.OVERLOADED).count());
    }

    @Test
    @DisplayName("a request whose deadline passes in the queue fails and never reaches a worker")
    void deadlineInQueue() throws Exception {
        batcher(config(4, 0, 100));
        EchoWorker w = worker();
        Future<InferenceResult> running = submit(1, 1f);
        Future<InferenceResult> late = submit(1, 2, 2f, 30);
        DeadlineExceededException e =
                assertInstanceOf(DeadlineExceededException.class, failure(late));
        assertFalse(e.started());
        w.open();
        await(running);
        assertEquals(List.of(List.of(1)), w.batches, "the expired request was never run");
        RequestFacts f = facts.stream()
                .filter(x -> x.outcome() == RequestOutcome.DEADLINE_EXCEEDED).findFirst().orElseThrow();
        assertEquals(0, f.batchId());
        assertEquals(0, f.computeNanos());
    }

    @Test
    @DisplayName("a request whose deadline passes while computing is answered at the deadline")
    void deadlineWhileRunning() throws Exception {
        batcher(config(4, 0, 100));
        EchoWorker w = worker();
        Future<InferenceResult> slow = submit(1, 2, 1f, 30);
        DeadlineExceededException e =
                assertInstanceOf(DeadlineExceededException.class, failure(slow));
        assertTrue(e.started());
        assertTrue(facts.isEmpty(), "its facts wait for the batch to end");
        w.open();
        await(submit(1, 2f));
        RequestFacts f = facts.stream()
                .filter(x -> x.outcome() == RequestOutcome.DEADLINE_EXCEEDED).findFirst().orElseThrow();
        assertTrue(f.batchId() > 0);
        assertTrue(f.computeNanos() > 0, "the compute was spent and is reported");
    }

    @Test
    @DisplayName("a failing batch fails its own requests only; the worker takes the next batch")
    void failureStaysInItsBatch() throws Exception {
        batcher(config(3, 0, 100));
        EchoWorker w = worker();
        w.failOn = 66f;
        Future<InferenceResult> first = submit(1, 1f);
        Future<InferenceResult> poisoned = submit(1, 66f);
        Future<InferenceResult> neighbour = submit(2, 2f);
        Future<InferenceResult> later = submit(2, 3f);
        w.open();
        assertEcho(await(first), 1, 1f);
        assertInstanceOf(InferenceFailedException.class, failure(poisoned));
        assertInstanceOf(InferenceFailedException.class, failure(neighbour));
        assertEcho(await(later), 2, 3f);
        assertEcho(await(submit(1, 4f)), 1, 4f);
    }

    @Test
    @DisplayName("with no worker, a request asks for one and is reported as a cold start")
    void coldStart() throws Exception {
        batcher = new Batcher(vertx, KEY, config(4, 0, 100), scaleRequests::incrementAndGet,
                new ModelMetrics(new SimpleMeterRegistry(), KEY), facts::add);
        Future<InferenceResult> r = submit(1, 1f);
        submit(1, 2f);
        assertEquals(1, scaleRequests.get(), "one worker asked for, not one per request");
        Thread.sleep(5); // lets measurable time pass before the model is in, not a wait for a condition
        batcher.modelLoaded();
        batcher.workerStarted(new EchoWorker().open());
        InferenceResult result = await(r);
        assertTrue(result.facts().coldStart());
        assertTrue(result.facts().loadNanos() >= 5_000_000L);
    }

    @Test
    @DisplayName("a failed cold start fails the waiting requests")
    void failedColdStart() throws Exception {
        batcher = new Batcher(vertx, KEY, config(4, 0, 100), scaleRequests::incrementAndGet,
                new ModelMetrics(new SimpleMeterRegistry(), KEY), facts::add);
        Future<InferenceResult> r = submit(1, 1f);
        batcher.workerFailed(new IllegalStateException("disk gone"));
        Throwable e = failure(r);
        assertInstanceOf(InferenceFailedException.class, e);
        assertTrue(e.getMessage().contains("disk gone"));
    }

    @Test
    @DisplayName("closing lets queued work finish, then refuses; abort fails what is left")
    void closeDrainsAndAbortFails() throws Exception {
        batcher(config(1, 0, 100));
        EchoWorker w = worker();
        Future<InferenceResult> a = submit(1, 1f);
        Future<InferenceResult> b = submit(1, 2f);
        Future<Void> drained = batcher.close();
        assertInstanceOf(OverloadedException.class, failure(submit(1, 3f)));
        assertFalse(drained.isComplete());
        w.open();
        await(a);
        await(b);
        await(drained);

        batcher(config(1, 0, 100));
        EchoWorker stuck = worker();
        Future<InferenceResult> c = submit(1, 1f);
        Future<InferenceResult> d = submit(1, 2f);
        batcher.close();
        batcher.abort(new OverloadedException("shutting down", Duration.ofSeconds(1)));
        assertInstanceOf(OverloadedException.class, failure(c));
        assertInstanceOf(OverloadedException.class, failure(d));
        assertEquals(1, stuck.batches.size());
    }

    @Test
    @DisplayName("idle workers above the minimum are retired; a busy version cannot be retired")
    void retirement() throws Exception {
        batcher(PoolConfig.defaults().withWorkers(1, 3));
        worker().open();
        worker().open();
        EchoWorker third = worker();
        assertTrue(batcher.retireIdle(Duration.ofHours(1), 1).isEmpty(), "not idle long enough");
        assertEquals(2, batcher.retireIdle(Duration.ZERO, 1).size());
        assertEquals(1, batcher.workers());
        Future<InferenceResult> r = submit(1, 1f);
        assertNull(batcher.retireAll(), "busy");
        third.open();
        await(r);
        assertEquals(1, batcher.retireAll().size());
        assertEquals(0, batcher.workers());
    }

    private Batcher faultyBatcher(PoolConfig config, long stuckGraceMs) {
        batcher = new Batcher(vertx, KEY, config, faults, new ModelMetrics(new SimpleMeterRegistry(), KEY),
                facts::add, Duration.ofMillis(stuckGraceMs));
        batcher.modelLoaded();
        return batcher;
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .pollInterval(java.time.Duration.ofMillis(5)).until(condition::getAsBoolean);
    }

    @Test
    @DisplayName("a worker stuck far past its batch's deadline is abandoned and replaced; its late result is dropped")
    void stuckWorkerIsReplaced() throws Exception {
        faultyBatcher(config(4, 0, 100), 50);
        EchoWorker hung = worker();
        Future<InferenceResult> victim = submit(1, 2, 1f, 30);
        assertTrue(assertInstanceOf(DeadlineExceededException.class, failure(victim)).started());
        waitFor(() -> batcher.stuckWorkers() == 1 && faults.stopped.size() == 1);
        assertEquals(List.of(hung), List.copyOf(faults.stopped), "stopped once its batch ends");
        assertFalse(faults.stopAfter.get(0).isComplete());
        assertEquals(0, faults.sparesLeft.get(), "a spare thread was lent");
        assertEquals(0, batcher.workers());
        assertEquals(1, scaleRequests.get(), "a replacement was asked for");
        RequestFacts victimFacts = facts.stream().filter(f -> f.outcome() == RequestOutcome.DEADLINE_EXCEEDED)
                .findFirst().orElseThrow();
        assertTrue(victimFacts.batchId() > 0, "published when abandoned, not when the batch returns");

        EchoWorker fresh = new EchoWorker().open();
        batcher.workerStarted(fresh);
        assertEcho(await(submit(2, 5f)), 2, 5f);

        int factsBefore = facts.size();
        hung.open();
        waitFor(() -> batcher.stuckWorkers() == 0 && faults.sparesLeft.get() == 1);
        assertTrue(faults.stopAfter.get(0).isComplete());
        assertEquals(1, faults.sparesLeft.get(), "the spare thread is back");
        assertEquals(factsBefore, facts.size(), "the late result is dropped");
        assertEquals(1, batcher.workers());
        assertEcho(await(submit(1, 6f)), 1, 6f);
        assertEquals(List.of(List.of(2), List.of(1)), fresh.batches);
    }

    @Test
    @DisplayName("with no spare thread left a stuck worker keeps its slot, and a version with every slot stuck refuses as overloaded")
    void stuckWithoutSpareOverloads() throws Exception {
        faults.sparesLeft.set(0);
        faultyBatcher(config(4, 0, 100), 20);
        EchoWorker hung = worker();
        Future<InferenceResult> victim = submit(1, 2, 1f, 20);
        Future<InferenceResult> queued = submit(1, 2, 2f, 5000);
        assertInstanceOf(DeadlineExceededException.class, failure(victim));
        assertInstanceOf(OverloadedException.class, failure(queued), "queued work fails fast");
        OverloadedException refused = assertInstanceOf(OverloadedException.class, failure(submit(1, 3f)));
        assertTrue(refused.getMessage().contains("stuck"), refused.getMessage());
        assertEquals(0, scaleRequests.get(), "no replacement without a spare thread");

        hung.open();
        waitFor(() -> batcher.stuckWorkers() == 0 && scaleRequests.get() == 1);
        Future<InferenceResult> after = submit(1, 4f);
        assertEquals(1, scaleRequests.get(), "the slot is free again: one worker is asked for");
        batcher.workerStarted(new EchoWorker().open());
        assertEcho(await(after), 1, 4f);
    }

    @Test
    @DisplayName("a worker that fails with an Error fails its batch only, and is stopped and replaced")
    void brokenWorkerIsReplaced() throws Exception {
        faultyBatcher(config(4, 0, 100), 1000);
        EchoWorker broken = worker();
        broken.breakOn = 9f;
        Future<InferenceResult> first = submit(1, 1f);
        Future<InferenceResult> poisoned = submit(1, 9f);
        Future<InferenceResult> neighbour = submit(1, 2f);
        Future<InferenceResult> later = submit(3, 3f);
        broken.open();
        assertEcho(await(first), 1, 1f);
        assertInstanceOf(InferenceFailedException.class, failure(poisoned));
        assertInstanceOf(InferenceFailedException.class, failure(neighbour));
        waitFor(() -> scaleRequests.get() == 1 && faults.stopped.size() == 1);
        assertEquals(List.of(broken), List.copyOf(faults.stopped));
        assertTrue(faults.stopAfter.get(0).isComplete(), "stopped at once");
        assertEquals(0, batcher.workers());
        assertFalse(later.isComplete(), "waits for the replacement, not for the broken worker");
        batcher.workerStarted(new EchoWorker().open());
        assertEcho(await(later), 3, 3f);
    }

    @Test
    @DisplayName("a calibrated batch cap below maxBatchSize bounds the items of every batch")
    void batchCapBoundsBatches() throws Exception {
        batcher(config(8, 0, 100));
        batcher.useBatchCap(2);
        assertEquals(2, batcher.batchCap());
        EchoWorker w = worker();
        List<Future<InferenceResult>> all = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            all.add(submit(1, i));
        }
        w.open();
        for (Future<InferenceResult> f : all) {
            assertTrue(await(f).facts().batchSize() <= 2);
        }
        assertEquals(List.of(List.of(1), List.of(1, 1), List.of(1, 1), List.of(1, 1)), w.batches);
        batcher.useBatchCap(100);
        assertEquals(8, batcher.batchCap(), "never above maxBatchSize");
    }
}
