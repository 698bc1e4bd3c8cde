package com.modelmarket.serving.training;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Trains a recipe on a dataset with DJL's training API, on the calling thread (blocking: call it
 * from a training pool thread, never an event loop).
 *
 * <p>Deterministic given the seed, on one intra-op thread: the split, the standardisation, the
 * initial weights (a seeded Java generator, see {@link RecipeBlocks#seededWeights}) and the batch
 * order ({@link SeededSampler}) depend only on the seed; the engine's global generator, used by
 * dropout only, is reseeded at the start. Two dropout runs at the same time in one process share
 * that generator and are then not reproducible; recipes without dropout always are.
 *
 * <p>The run: a stratified held-out split (the platform's measurement), a validation part of the
 * rest (early stopping, per-epoch figures), standardisation fitted on the training part, then
 * epochs of mini-batches. Between steps it checks the cancellation and the time limit; after each
 * step, that the loss is finite. With validation rows it keeps the parameters of the epoch with the
 * lowest validation loss; the held-out metrics are measured on the resulting {@link TrainedModel},
 * the same object that is saved and served.
 */
public final class RecipeTrainer {

    static final String ENGINE = "PyTorch";

    /** Starts (or finds) the engine, offline. The caller owns the engine's thread settings. */
    static Engine engine() {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        return Engine.getEngine(ENGINE);
    }

    /**
     * Trains and measures.
     *
     * @throws TrainingFailedException cancelled, past the time limit, a non-finite loss, or an
     *     engine failure; nothing is left behind
     * @throws IllegalArgumentException the dataset's task is not the recipe's
     */
    public TrainingResult train(TrainingRecipe recipe, Hyperparameters hp, CsvDataset data,
            TrainingOptions options) {
        if (data.task() != recipe.task()) {
            throw new IllegalArgumentException("a " + data.task().jsonName() + " dataset for a "
                    + recipe.task().jsonName() + " recipe");
        }
        long started = System.nanoTime();
        long deadline = started + options.timeLimit().toNanos();
        Engine engine = engine();
        engine.setRandomSeed(Math.toIntExact(hp.seed() % Integer.MAX_VALUE));
        DataSplit split = DataSplit.of(data, options.heldOutFraction(), hp.validationFraction(), hp.seed());
        Standardization scaling = Standardization.fit(data, split.train());
        boolean classification = recipe.task() == TrainingTask.CLASSIFICATION;
        int outputs = classification ? data.classes().size() : 1;
        String metricName = classification ? "accuracy" : "r2";

        Block block = RecipeBlocks.build(recipe, hp, outputs);
        try (Model model = Model.newInstance("recipe", Device.cpu(), ENGINE)) {
            model.setBlock(block);
            DefaultTrainingConfig config = new DefaultTrainingConfig(classification
                            ? Loss.softmaxCrossEntropyLoss() : Loss.l2Loss())
                    .optDevices(new Device[] {Device.cpu()})
                    .optOptimizer(optimizer(recipe, hp))
                    .optInitializer(RecipeBlocks.seededWeights(hp.seed()), Parameter.Type.WEIGHT)
                    .optInitializer(Initializer.ZEROS, Parameter.Type.BIAS);
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(1, data.featureCount()));
                NDManager manager = trainer.getManager();
                SeededSampler sampler = new SeededSampler(hp.batchSize(), hp.seed());
                ArrayDataset train = new ArrayDataset.Builder()
                        .setData(features(manager, scaling, data, split.train()))
                        .optLabels(labels(manager, scaling, data, split.train()))
                        .setSampling(sampler)
                        .build();
                NDArray valX = split.validation().length == 0 ? null
                        : features(manager, scaling, data, split.validation());
                NDArray valY = valX == null ? null : labels(manager, scaling, data, split.validation());
                int stepsPerEpoch = sampler.stepsPerEpoch(split.train().length);
                long totalSteps = (long) stepsPerEpoch * hp.epochs();

                List<TrainingProgress> curve = new ArrayList<>();
                byte[] best = null;
                double bestLoss = Double.POSITIVE_INFINITY;
                int bestEpoch = 0;
                int sinceBest = 0;
                long step = 0;
                boolean stoppedEarly = false;
                int epoch = 0;
                while (epoch < hp.epochs()) {
                    epoch++;
                    double lossSum = 0;
                    int steps = 0;
                    for (Batch batch : trainer.iterateDataset(train)) {
                        try (batch) {
                            checkContinue(options, deadline, epoch, step);
                            float loss = trainStep(trainer, batch);
                            step++;
                            if (!Float.isFinite(loss)) {
                                throw new TrainingFailedException(TrainingFailedException.Reason.DIVERGED,
                                        "the training loss became " + loss + " at epoch " + epoch
                                                + ", step " + step + "; try a smaller learningRate");
                            }
                            lossSum += loss;
                            steps++;
                        }
                    }
                    double valLoss = Double.NaN;
                    double valMetric = Double.NaN;
                    if (valX != null) {
                        double[] v = validate(trainer, block, valX, valY, classification, scaling, data,
                                split.validation());
                        valLoss = v[0];
                        valMetric = v[1];
                        if (!Double.isFinite(valLoss)) {
                            throw new TrainingFailedException(TrainingFailedException.Reason.DIVERGED,
                                    "the validation loss became " + valLoss + " at epoch " + epoch);
                        }
                    }
                    Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
                    Duration remaining = elapsed.dividedBy(epoch).multipliedBy(hp.epochs() - epoch);
                    TrainingProgress p = new TrainingProgress(epoch, hp.epochs(), step, totalSteps,
                            lossSum / Math.max(1, steps), valLoss, valMetric, metricName, elapsed, remaining);
                    curve.add(p);
                    options.progress().accept(p);
                    if (valX == null || valLoss < bestLoss) {
                        bestLoss = valX == null ? bestLoss : valLoss;
                        best = parameters(block);
                        bestEpoch = epoch;
                        sinceBest = 0;
                    } else if (hp.earlyStoppingPatience() > 0 && ++sinceBest >= hp.earlyStoppingPatience()) {
                        stoppedEarly = epoch < hp.epochs();
                        break;
                    }
                }
                checkContinue(options, deadline, epoch, step);
                TrainedModel trained = new TrainedModel(recipe, hp, data.featureNames(), data.classes(),
                        scaling, best);
                try {
                    HeldOutMetrics metrics = HeldOutMetrics.measure(trained, data, split.heldOut());
                    return new TrainingResult(trained, metrics, curve, hp, split, epoch, bestEpoch,
                            stoppedEarly, Duration.ofNanos(System.nanoTime() - started));
                } catch (RuntimeException e) {
                    trained.close();
                    throw e;
                }
            }
        } catch (TrainingException e) {
            throw e;
        } catch (IOException | TranslateException | RuntimeException e) {
            throw new TrainingFailedException(TrainingFailedException.Reason.ENGINE_ERROR,
                    "training failed in the engine: " + e, e);
        }
    }

    private static void checkContinue(TrainingOptions options, long deadline, int epoch, long step) {
        if (options.cancelled().getAsBoolean()) {
            throw new TrainingFailedException(TrainingFailedException.Reason.CANCELLED,
                    "cancelled at epoch " + epoch + ", step " + step);
        }
        if (System.nanoTime() - deadline > 0) {
            throw new TrainingFailedException(TrainingFailedException.Reason.TIME_LIMIT,
                    "the time limit of " + options.timeLimit() + " passed at epoch " + epoch
                            + ", step " + step);
        }
    }

    /** One optimiser step on {@code batch}; a non-finite loss is returned without a step (the caller fails the run). */
    static float trainStep(Trainer trainer, Batch batch) {
        float loss;
        try (GradientCollector collector = trainer.newGradientCollector()) {
            NDList predictions = trainer.forward(batch.getData(), batch.getLabels());
            NDArray l = trainer.getLoss().evaluate(batch.getLabels(), predictions);
            loss = l.getFloat();
            if (Float.isFinite(loss)) {
                collector.backward(l);
            }
        }
        if (Float.isFinite(loss)) {
            trainer.step();
        }
        return loss;
    }

    /** Validation loss and metric (accuracy or R²) with the current parameters, dropout off. */
    private static double[] validate(Trainer trainer, Block block, NDArray x, NDArray y,
            boolean classification, Standardization scaling, CsvDataset data, int[] rows) {
        try (NDManager m = trainer.getManager().newSubManager()) {
            NDArray out = block.forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow();
            double loss = trainer.getLoss().evaluate(new NDList(y), new NDList(out)).getFloat();
            float[] flat = out.toFloatArray();
            if (classification) {
                int k = data.classes().size();
                int correct = 0;
                for (int i = 0; i < rows.length; i++) {
                    float[] row = new float[k];
                    System.arraycopy(flat, i * k, row, 0, k);
                    if (HeldOutMetrics.argmax(row) == data.classIndex(rows[i])) {
                        correct++;
                    }
                }
                return new double[] {loss, (double) correct / rows.length};
            }
            float[][] predicted = new float[rows.length][1];
            double[] actual = new double[rows.length];
            for (int i = 0; i < rows.length; i++) {
                predicted[i][0] = scaling.unscaleTarget(flat[i]);
                actual[i] = data.target(rows[i]);
            }
            return new double[] {loss, HeldOutMetrics.regression(actual, predicted).r2()};
        }
    }

    private static Optimizer optimizer(TrainingRecipe recipe, Hyperparameters hp) {
        Tracker lr = Tracker.fixed((float) hp.learningRate());
        return switch (recipe.optimizer()) {
            case ADAM -> Optimizer.adam().optLearningRateTracker(lr)
                    .optWeightDecays((float) hp.weightDecay()).build();
            case SGD -> Optimizer.sgd().setLearningRateTracker(lr).optMomentum(0.9f)
                    .optWeightDecays((float) hp.weightDecay()).build();
        };
    }

    private static NDArray features(NDManager manager, Standardization scaling, CsvDataset data, int[] rows) {
        return manager.create(scaling.apply(data.rows(rows)), new Shape(rows.length, data.featureCount()));
    }

    private static NDArray labels(NDManager manager, Standardization scaling, CsvDataset data, int[] rows) {
        float[] y = new float[rows.length];
        for (int i = 0; i < rows.length; i++) {
            y[i] = data.task() == TrainingTask.CLASSIFICATION
                    ? data.classIndex(rows[i]) : scaling.scaleTarget(data.target(rows[i]));
        }
        return manager.create(y, data.task() == TrainingTask.CLASSIFICATION
                ? new Shape(rows.length) : new Shape(rows.length, 1));
    }

    private static byte[] parameters(Block block) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DataOutputStream dos = new DataOutputStream(out)) {
            block.saveParameters(dos);
        }
        return out.toByteArray();
    }
}
