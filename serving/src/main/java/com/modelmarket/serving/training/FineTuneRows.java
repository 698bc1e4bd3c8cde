package com.modelmarket.serving.training;

import com.modelmarket.serving.model.ModelManifest;
import java.util.List;

/**
 * The labelled rows a model is fine-tuned on, as the model takes them: raw feature values (the
 * model's own preprocessing is inside it) and, per row, the class index in the order of the
 * manifest output's {@code labels} (classification) or the target value (regression).
 */
public record FineTuneRows(float[][] features, float[] labels) {

    public FineTuneRows {
        if (features.length != labels.length) {
            throw new IllegalArgumentException(features.length + " rows but " + labels.length + " labels");
        }
    }

    public int count() {
        return features.length;
    }

    /**
     * A dataset's rows for {@code manifest}'s model: its feature columns must be as many as the
     * model's input width and, for a classifier, each row's class one of the output's labels.
     *
     * @throws FineTuneRefusedException the model cannot be fine-tuned or the dataset does not fit it
     */
    public static FineTuneRows of(CsvDataset data, ModelManifest manifest) {
        FineTuneShape shape = FineTuneShape.of(manifest);
        if (data.featureCount() != shape.features()) {
            throw new FineTuneRefusedException("the dataset has " + data.featureCount() + " feature columns; the "
                    + "model takes " + shape.features());
        }
        float[] labels = new float[data.rowCount()];
        if (shape.classification()) {
            if (data.task() != TrainingTask.CLASSIFICATION) {
                throw new FineTuneRefusedException("the model is a classifier; the dataset is for regression");
            }
            List<String> known = shape.labels();
            for (int r = 0; r < labels.length; r++) {
                String label = data.classes().get(data.classIndex(r));
                int index = known.indexOf(label);
                if (index < 0) {
                    throw new FineTuneRefusedException("row " + (r + 1) + " has the label '" + label
                            + "', which the model does not know; its labels are " + known);
                }
                labels[r] = index;
            }
        } else {
            if (data.task() != TrainingTask.REGRESSION) {
                throw new FineTuneRefusedException("the model is a regressor; the dataset is for classification");
            }
            for (int r = 0; r < labels.length; r++) {
                labels[r] = (float) data.target(r);
            }
        }
        float[][] features = new float[data.rowCount()][];
        for (int r = 0; r < features.length; r++) {
            features[r] = data.row(r);
        }
        return new FineTuneRows(features, labels);
    }
}
