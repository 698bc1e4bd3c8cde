package com.modelmarket.serving.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.initializer.Initializer;
import java.util.Random;

/**
 * Builds the DJL block of a recipe. The same recipe, hyperparameters and shapes always give the
 * same block definition, which is what lets a saved {@code .params} file be loaded again.
 */
final class RecipeBlocks {

    private RecipeBlocks() {}

    /** The block: logits (classification) or one standardised value (regression). */
    static Block build(TrainingRecipe recipe, Hyperparameters hp, int outputs) {
        SequentialBlock block = new SequentialBlock();
        if (recipe.architecture().kind() == TrainingRecipe.BlockKind.MLP) {
            for (int width : hp.hiddenSizes()) {
                block.add(Linear.builder().setUnits(width).build());
                block.add(recipe.architecture().activation() == TrainingRecipe.ActivationKind.TANH
                        ? Activation.tanhBlock() : Activation.reluBlock());
                if (recipe.architecture().dropout() > 0) {
                    block.add(Dropout.builder().optRate((float) recipe.architecture().dropout()).build());
                }
            }
        }
        block.add(Linear.builder().setUnits(outputs).build());
        return block;
    }

    /**
     * Glorot-uniform weights drawn from a Java {@link Random} seeded by the run's seed: the
     * initial weights do not depend on the engine's global random state, which other threads of
     * the process may be using.
     */
    static Initializer seededWeights(long seed) {
        Random random = new Random(seed * 0x9E3779B97F4A7C15L + 1);
        return (NDManager manager, Shape shape, DataType dataType) -> {
            long fanOut = shape.get(0);
            long fanIn = shape.dimension() > 1 ? shape.size() / fanOut : fanOut;
            double limit = Math.sqrt(6.0 / (fanIn + fanOut));
            float[] values = new float[Math.toIntExact(shape.size())];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) ((random.nextDouble() * 2 - 1) * limit);
            }
            NDArray array = manager.create(values, shape);
            return dataType == DataType.FLOAT32 ? array : array.toType(dataType, false);
        };
    }
}
