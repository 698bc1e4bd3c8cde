package com.modelmarket.serving;

import com.modelmarket.serving.store.StoredArtifact;
import com.modelmarket.serving.training.CsvLimits;
import com.modelmarket.serving.training.Hyperparameters;
import com.modelmarket.serving.training.TrainingRecipe;
import com.modelmarket.serving.training.TrainingTask;
import java.util.Objects;

/**
 * A recipe training job as the engine takes it: whose it is, the tenant's CSV file from the store
 * and how to read it, and the validated recipe with resolved hyperparameters.
 *
 * @param owner the tenant whose data it is (names the job's process; never shared with another job)
 */
public record TrainingRun(String owner, StoredArtifact csv, String labelColumn, TrainingTask task, CsvLimits limits,
        TrainingRecipe recipe, Hyperparameters hyperparameters) {

    public TrainingRun {
        Objects.requireNonNull(owner);
        Objects.requireNonNull(csv);
        Objects.requireNonNull(labelColumn);
        Objects.requireNonNull(task);
        Objects.requireNonNull(limits);
        Objects.requireNonNull(recipe);
        Objects.requireNonNull(hyperparameters);
    }
}
