package com.modelmarket.serving.training;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The CSVs of {@code fixtures/datasets/make_datasets.py} and the recipes of {@code fixtures/recipes}. */
final class TrainingFixtures {

    static final Path DIR = Path.of(System.getProperty("modelmarket.fixtures", "fixtures"));

    private TrainingFixtures() {}

    static Path csv(String name) {
        return DIR.resolve("datasets").resolve(name + ".csv");
    }

    static CsvDataset dataset(String name, String label, TrainingTask task) {
        try (InputStream in = Files.newInputStream(csv(name))) {
            return CsvDataset.parse(in, label, task, CsvLimits.DEFAULT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static CsvDataset breastCancer() {
        return dataset("breast_cancer", "label", TrainingTask.CLASSIFICATION);
    }

    static CsvDataset wine() {
        return dataset("wine", "label", TrainingTask.CLASSIFICATION);
    }

    static CsvDataset diabetes() {
        return dataset("diabetes", "target", TrainingTask.REGRESSION);
    }

    static JsonObject recipeJson(String name) {
        try {
            return new JsonObject(Files.readString(DIR.resolve("recipes").resolve(name + ".json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static TrainingRecipe recipe(String name) {
        return TrainingRecipe.fromJson(recipeJson(name));
    }
}
