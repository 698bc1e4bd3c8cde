package com.modelmarket.serving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TensorSpec;
import java.time.Duration;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.IntToLongFunction;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The calibration rule on made-up timings: no model, no clock. */
class BatchCalibrationTest {

    private static SortedMap<Integer, Double> table(double... itemsPerSecond) {
        SortedMap<Integer, Double> t = new TreeMap<>();
        for (int i = 0; i < itemsPerSecond.length; i++) {
            t.put(1 << i, itemsPerSecond[i]);
        }
        return t;
    }

    /** A probe whose batches take {@code nanos(size)}, on a clock that only they advance. */
    private static final class FakeModel {
        long clock;
        int calls;
        final IntToLongFunction nanos;

        FakeModel(IntToLongFunction nanos) {
            this.nanos = nanos;
        }

        BatchCalibration.Result calibrate(int maxBatchSize, Duration budget) throws Exception {
            return BatchCalibration.run(size -> {
                calls++;
                long t = nanos.applyAsLong(size);
                clock += t;
                return t;
            }, maxBatchSize, budget, () -> clock);
        }
    }

    @Test
    @DisplayName("the cap is the smallest batch size within 3% of the best items per second")
    void chooseCapPicksSmallestNearBest() {
        // ResNet-18 on a CPU, as measured in docs/benchmarks.md: batch 8 is best, 16 far worse
        assertEquals(8, BatchCalibration.chooseCap(table(13.0, 12.7, 13.0, 14.4, 6.3), 0.03));
        // a small MLP keeps getting faster: the largest size
        assertEquals(16, BatchCalibration.chooseCap(table(9e3, 17e3, 31e3, 55e3, 90e3), 0.03));
        // flat within noise: batching buys nothing, so no batching
        assertEquals(1, BatchCalibration.chooseCap(table(100, 99, 101, 100.5), 0.03));
        // a size just inside the tolerance wins over a bigger best
        assertEquals(4, BatchCalibration.chooseCap(table(50, 80, 97.5, 100), 0.03));
        assertEquals(8, BatchCalibration.chooseCap(table(50, 80, 96.9, 100), 0.03));
    }

    @Test
    @DisplayName("sizes double from 1 and end at maxBatchSize itself")
    void sizes() {
        assertEquals(List.of(1, 2, 4, 8, 16), BatchCalibration.sizes(16));
        assertEquals(List.of(1, 2, 4, 8, 12), BatchCalibration.sizes(12));
        assertEquals(List.of(1), BatchCalibration.sizes(1));
    }

    @Test
    @DisplayName("a light model is timed up to maxBatchSize and gets the full cap")
    void lightModelGetsFullCap() throws Exception {
        FakeModel mlp = new FakeModel(size -> 100_000 + 2_000L * size); // fixed overhead dominates
        BatchCalibration.Result r = mlp.calibrate(16, Duration.ofSeconds(2));
        assertEquals(16, r.cap());
        assertEquals(List.of(1, 2, 4, 8, 16), List.copyOf(r.itemsPerSecond().keySet()));
        assertNull(r.stoppedBecause());
        assertTrue(r.spentNanos() < Duration.ofSeconds(2).toNanos());
    }

    @Test
    @DisplayName("a heavy model stops doubling when the next size would overrun the budget")
    void heavyModelStopsAtBudget() throws Exception {
        FakeModel resnet = new FakeModel(size -> 77_000_000L * size); // no gain from batching
        BatchCalibration.Result r = resnet.calibrate(16, Duration.ofSeconds(2));
        assertEquals(1, r.cap(), "flat items/s: the smallest size");
        assertTrue(r.itemsPerSecond().size() < 5, "not every size fits in 2 s: " + r.itemsPerSecond());
        assertNotNull(r.stoppedBecause());
        // what was run stays near the budget: a size is only started if it is expected to fit
        assertTrue(r.spentNanos() < Duration.ofMillis(2500).toNanos(), r.spentNanos() / 1_000_000 + " ms");
    }

    @Test
    @DisplayName("doubling stops once two sizes in a row fall clearly below the best so far")
    void stopsAfterClearDrop() throws Exception {
        // per item: 10 ms alone, 6 ms from 2 on, 20 ms from 8 on (a cache cliff)
        FakeModel cliff = new FakeModel(size -> size * (size == 1 ? 10_000_000L : size < 8 ? 6_000_000L : 20_000_000L));
        BatchCalibration.Result r = cliff.calibrate(128, Duration.ofSeconds(60));
        assertEquals(2, r.cap());
        assertEquals(List.of(1, 2, 4, 8, 16), List.copyOf(r.itemsPerSecond().keySet()), "32..128 never run");
        assertTrue(r.stoppedBecause().contains("slower"), r.stoppedBecause());
    }

    @Test
    @DisplayName("one unlucky size does not end calibration: it is timed again, and doubling goes on")
    void oneSlowLookIsNotTheEnd() throws Exception {
        int[] calls = new int[65];
        // an MLP whose size-2 runs are slowed by a busy machine through its whole first look
        FakeModel noisy = new FakeModel(size -> {
            calls[size]++;
            long nanos = 100_000 + 2_000L * size;
            return size == 2 && calls[2] <= 25 ? nanos * 5 : nanos;
        });
        BatchCalibration.Result r = noisy.calibrate(64, Duration.ofSeconds(2));
        assertEquals(64, r.cap());
        assertEquals(List.of(1, 2, 4, 8, 16, 32, 64), List.copyOf(r.itemsPerSecond().keySet()));
    }

    @Test
    @DisplayName("a single item slower than the whole budget still yields cap 1")
    void overBudgetSingleItem() throws Exception {
        FakeModel huge = new FakeModel(size -> 3_000_000_000L * size);
        BatchCalibration.Result r = huge.calibrate(16, Duration.ofSeconds(1));
        assertEquals(1, r.cap());
        assertEquals(List.of(1), List.copyOf(r.itemsPerSecond().keySet()));
        assertEquals(1 + BatchCalibration.MIN_REPS, huge.calls, "one warm-up and the minimum reps");
    }

    @Test
    @DisplayName("synthetic inputs are zeros shaped by the manifest, and none exist for a variable dimension")
    void syntheticInputs() {
        Tensor example = Tensor.ofFloats("image", new long[] {1, 1, 2, 2}, 1, 2, 3, 4);
        ModelManifest fixed = new ModelManifest("m", List.of(new TensorSpec("image", DataType.FP32, -1, 1, 2, 2)),
                List.of(new TensorSpec("y", DataType.FP32, -1, 3)), List.of(example));
        Tensor zeros = BatchCalibration.syntheticInputs(fixed, 4).orElseThrow().get(0);
        assertArrayEquals(new long[] {4, 1, 2, 2}, zeros.shape());
        assertArrayEquals(new float[16], zeros.toFloats());

        ModelManifest ragged = new ModelManifest("m", List.of(new TensorSpec("seq", DataType.FP32, -1, -1)),
                List.of(new TensorSpec("y", DataType.FP32, -1)), List.of(Tensor.ofFloats("seq", new long[] {1, 2}, 1, 2)));
        assertTrue(BatchCalibration.syntheticInputs(ragged, 2).isEmpty());
    }
}
