package com.modelmarket.serving;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;

/**
 * What a recipe training job made.
 *
 * @param file the trained-model archive (a temporary file: the caller stores it and deletes it)
 * @param manifest the archive's serving manifest, its {@code name} still to be set by the caller
 * @param report {@code TrainingResult.reportJson()}: metrics, curve, split, epochs, elapsed
 */
public record TrainedArtifact(Path file, JsonObject manifest, JsonObject report) {
}
