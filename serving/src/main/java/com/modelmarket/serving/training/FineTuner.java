package com.modelmarket.serving.training;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.loss.Loss;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import com.modelmarket.serving.model.ModelManifest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Fine-tunes a publisher's TorchScript module on labelled rows and writes the result as a new
 * TorchScript file with the same code, inputs and outputs. Blocking, on the calling thread.
 *
 * <p>TorchScript is code: this class runs the publisher's module, so it belongs inside a model host
 * (or in a trusted, sandbox-off process), never in the platform's JVM.
 *
 * <p>The run: the module is loaded with its parameters trainable ({@code trainParam}); a seeded
 * split keeps held-out rows (stratified per class) on which the base module is measured first; Adam
 * trains every parameter (buffers, such as the module's own input scaling, stay as they are) on
 * mini-batches in a seeded order; the tuned module is measured on the same held-out rows, put back
 * in inference mode and written out. Inputs are passed raw, as serving passes them. For a
 * classifier the loss depends on what it outputs, seen on the training rows before training:
 * rows of probabilities (non-negative, summing to 1) get cross-entropy on their log, anything else
 * is taken as logits. Between steps it checks the cancellation and the time limit, and after each
 * step that the loss is finite.
 */
public final class FineTuner {

    /**
     * @param out where the tuned module is written (through a temporary file beside it)
     * @throws FineTuneRefusedException the model or the rows do not fit fine-tuning
     * @throws TrainingFailedException cancelled, past the time limit, a non-finite loss, or an engine
     *     failure; {@code out} is not written then
     */
    public FineTuneReport fineTune(Path base, ModelManifest manifest, FineTuneRows rows, FineTuneSettings settings,
            BooleanSupplier cancelled, Duration timeLimit, Path out) {
        return fineTune(base, manifest, rows, settings, cancelled, timeLimit, p -> { }, out);
    }

    /**
     * As {@link #fineTune(Path, ModelManifest, FineTuneRows, FineTuneSettings, BooleanSupplier,
     * Duration, Path)}, telling {@code progress} after every epoch (the mean training loss; fine-tuning
     * keeps no validation rows, so those figures are NaN).
     */
    public FineTuneReport fineTune(Path base, ModelManifest manifest, FineTuneRows rows, FineTuneSettings settings,
            BooleanSupplier cancelled, Duration timeLimit, java.util.function.Consumer<TrainingProgress> progress,
            Path out) {
        FineTuneShape shape = FineTuneShape.of(manifest);
        checkRows(shape, rows);
        long started = System.nanoTime();
        long deadline = started + timeLimit.toNanos();
        Engine engine = RecipeTrainer.engine();
        engine.setRandomSeed(Math.toIntExact(Math.floorMod(settings.seed(), Integer.MAX_VALUE)));
        int[] classes = shape.classification() ? classIndices(rows) : null;
        DataSplit split = DataSplit.of(rows.count(), classes, shape.outputs(), settings.heldOutFraction(), 0,
                settings.seed());
        try (Model model = Model.newInstance(manifest.name(), Device.cpu(), RecipeTrainer.ENGINE)) {
            model.load(base, null, Map.of("trainParam", "true", "mapLocation", "true"));
            Block block = model.getBlock();
            if (!(block instanceof PtSymbolBlock module)) {
                throw new FineTuneRefusedException("the model is not a TorchScript module");
            }
            try (NDManager arrays = model.getNDManager().newSubManager()) {
                NDArray heldOutX = features(arrays, rows, split.heldOut());
                NDArray trainX = features(arrays, rows, split.train());
                String outputs = shape.classification()
                        ? (probabilities(forward(block, arrays, trainX)) ? "probabilities" : "logits") : "values";
                HeldOutMetrics before = measure(shape, rows, split.heldOut(), forward(block, arrays, heldOutX));
                DefaultTrainingConfig config = new DefaultTrainingConfig(loss(outputs))
                        .optDevices(new Device[] {Device.cpu()})
                        .optOptimizer(Optimizer.adam()
                                .optLearningRateTracker(Tracker.fixed((float) settings.learningRate())).build());
                long steps = 0;
                double lastLoss = Double.NaN;
                int epoch = 0;
                try (Trainer trainer = model.newTrainer(config)) {
                    SeededSampler sampler = new SeededSampler(settings.batchSize(), settings.seed());
                    ArrayDataset train = new ArrayDataset.Builder().setData(trainX)
                            .optLabels(labels(arrays, shape, rows, split.train())).setSampling(sampler).build();
                    long totalSteps = (long) sampler.stepsPerEpoch(split.train().length) * settings.epochs();
                    while (epoch < settings.epochs()) {
                        epoch++;
                        double sum = 0;
                        int count = 0;
                        for (Batch batch : trainer.iterateDataset(train)) {
                            try (batch) {
                                checkContinue(cancelled, deadline, timeLimit, epoch, steps);
                                float loss = RecipeTrainer.trainStep(trainer, batch);
                                steps++;
                                if (!Float.isFinite(loss)) {
                                    throw new TrainingFailedException(TrainingFailedException.Reason.DIVERGED,
                                            "the training loss became " + loss + " at epoch " + epoch + ", step "
                                                    + steps + "; try a smaller learningRate");
                                }
                                sum += loss;
                                count++;
                            }
                        }
                        lastLoss = sum / Math.max(1, count);
                        Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
                        progress.accept(new TrainingProgress(epoch, settings.epochs(), steps, totalSteps, lastLoss,
                                Double.NaN, Double.NaN, shape.classification() ? "accuracy" : "r2", elapsed,
                                elapsed.dividedBy(epoch).multipliedBy(settings.epochs() - epoch)));
                    }
                }
                checkContinue(cancelled, deadline, timeLimit, epoch, steps);
                HeldOutMetrics after = measure(shape, rows, split.heldOut(), forward(block, arrays, heldOutX));
                JniUtils.enableInferenceMode(module); // saved as served: eval mode
                write(module, out);
                return new FineTuneReport(before, after, split.heldOut(), split.train().length, epoch, steps, lastLoss,
                        outputs, Duration.ofNanos(System.nanoTime() - started));
            }
        } catch (TrainingException e) {
            throw e;
        } catch (IOException | MalformedModelException | TranslateException | RuntimeException e) {
            throw new TrainingFailedException(TrainingFailedException.Reason.ENGINE_ERROR,
                    "fine-tuning failed in the engine: " + e, e);
        }
    }

    /**
     * Whether {@code rows} fit a model of {@code manifest}, checked before the model is touched (the
     * platform checks it too, before it sends the rows to a model host).
     *
     * @throws FineTuneRefusedException saying why not
     */
    public static void checkFits(ModelManifest manifest, FineTuneRows rows) {
        checkRows(FineTuneShape.of(manifest), rows);
    }

    private static void checkRows(FineTuneShape shape, FineTuneRows rows) {
        if (rows.count() < 4) {
            throw new FineTuneRefusedException("fine-tuning needs at least 4 rows, not " + rows.count());
        }
        for (int r = 0; r < rows.count(); r++) {
            if (rows.features()[r].length != shape.features()) {
                throw new FineTuneRefusedException("row " + (r + 1) + " has " + rows.features()[r].length
                        + " features; the model takes " + shape.features());
            }
            float label = rows.labels()[r];
            if (shape.classification() && (label != Math.rint(label) || label < 0 || label >= shape.outputs())) {
                throw new FineTuneRefusedException("row " + (r + 1) + " has the class index " + label + "; the model"
                        + " has " + shape.outputs() + " classes");
            }
            if (!Float.isFinite(label)) {
                throw new FineTuneRefusedException("row " + (r + 1) + " has the target " + label);
            }
        }
    }

    private static int[] classIndices(FineTuneRows rows) {
        int[] classes = new int[rows.count()];
        for (int r = 0; r < classes.length; r++) {
            classes[r] = (int) rows.labels()[r];
        }
        return classes;
    }

    private static void checkContinue(BooleanSupplier cancelled, long deadline, Duration limit, int epoch,
            long steps) {
        if (cancelled.getAsBoolean()) {
            throw new TrainingFailedException(TrainingFailedException.Reason.CANCELLED,
                    "cancelled at epoch " + epoch + ", step " + steps);
        }
        if (System.nanoTime() - deadline > 0) {
            throw new TrainingFailedException(TrainingFailedException.Reason.TIME_LIMIT,
                    "the time limit of " + limit + " passed at epoch " + epoch + ", step " + steps);
        }
    }

    private static Loss loss(String outputs) {
        return switch (outputs) {
            case "probabilities" -> new LogProbabilityLoss();
            case "logits" -> Loss.softmaxCrossEntropyLoss();
            default -> Loss.l2Loss();
        };
    }

    /** Cross-entropy for a model whose outputs are already probabilities: the log, clipped off zero. */
    private static final class LogProbabilityLoss extends Loss {
        private final SoftmaxCrossEntropyLoss onLogs = new SoftmaxCrossEntropyLoss("loss", 1, -1, true, false);

        LogProbabilityLoss() {
            super("loss");
        }

        @Override
        public NDArray evaluate(NDList label, NDList prediction) {
            return onLogs.evaluate(label, new NDList(prediction.singletonOrThrow().clip(1e-7f, 1f).log()));
        }
    }

    /** The module's outputs in inference mode, with no gradient, as serving computes them. */
    private static float[][] forward(Block block, NDManager manager, NDArray x) {
        try (NDManager m = manager.newSubManager()) {
            NDArray out = block.forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow();
            long[] dims = out.getShape().getShape();
            if (dims.length != 2 || dims[0] != x.getShape().get(0)) {
                throw new FineTuneRefusedException("the model returned shape " + out.getShape() + " for "
                        + x.getShape().get(0) + " rows");
            }
            float[] flat = out.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
            int k = (int) dims[1];
            float[][] rows = new float[(int) dims[0]][k];
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(flat, i * k, rows[i], 0, k);
            }
            return rows;
        }
    }

    private static boolean probabilities(float[][] outputs) {
        for (float[] row : outputs) {
            double sum = 0;
            for (float p : row) {
                if (!(p >= 0 && p <= 1)) {
                    return false;
                }
                sum += p;
            }
            if (Math.abs(sum - 1) > 1e-3) {
                return false;
            }
        }
        return true;
    }

    private static HeldOutMetrics measure(FineTuneShape shape, FineTuneRows rows, int[] heldOut, float[][] outputs) {
        if (shape.classification()) {
            int[] actual = new int[heldOut.length];
            for (int i = 0; i < heldOut.length; i++) {
                actual[i] = (int) rows.labels()[heldOut[i]];
            }
            return HeldOutMetrics.classification(shape.labels(), actual, outputs);
        }
        double[] actual = new double[heldOut.length];
        for (int i = 0; i < heldOut.length; i++) {
            actual[i] = rows.labels()[heldOut[i]];
        }
        return HeldOutMetrics.regression(actual, outputs);
    }

    private static NDArray features(NDManager manager, FineTuneRows rows, int[] indices) {
        int n = rows.features().length == 0 ? 0 : rows.features()[0].length;
        float[] flat = new float[indices.length * n];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(rows.features()[indices[i]], 0, flat, i * n, n);
        }
        return manager.create(flat, new Shape(indices.length, n));
    }

    private static NDArray labels(NDManager manager, FineTuneShape shape, FineTuneRows rows, int[] indices) {
        float[] y = new float[indices.length];
        for (int i = 0; i < indices.length; i++) {
            y[i] = rows.labels()[indices[i]];
        }
        return manager.create(y, shape.classification() ? new Shape(indices.length) : new Shape(indices.length, 1));
    }

    private static void write(PtSymbolBlock module, Path out) throws IOException {
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try (OutputStream os = Files.newOutputStream(tmp)) {
            JniUtils.writeModule(module, os, false);
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
