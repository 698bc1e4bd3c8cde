package com.modelmarket.serving.training;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * What the platform measured on the held-out rows, from the model's own outputs (the same float
 * outputs serving returns), so anyone holding the artifact and the held-out rows can recompute it
 * exactly.
 */
public sealed interface HeldOutMetrics {

    JsonObject toJson();

    /**
     * @param confusion {@code confusion[actual][predicted]} row counts, classes in label order
     */
    record Classification(List<String> labels, double accuracy, double macroF1, long[][] confusion)
            implements HeldOutMetrics {

        @Override
        public JsonObject toJson() {
            JsonArray matrix = new JsonArray();
            for (long[] row : confusion) {
                JsonArray r = new JsonArray();
                for (long v : row) {
                    r.add(v);
                }
                matrix.add(r);
            }
            return new JsonObject().put("task", "classification").put("accuracy", accuracy)
                    .put("macroF1", macroF1).put("labels", new JsonArray(List.copyOf(labels)))
                    .put("confusionMatrix", matrix);
        }
    }

    record Regression(double mae, double rmse, double r2) implements HeldOutMetrics {

        @Override
        public JsonObject toJson() {
            return new JsonObject().put("task", "regression").put("mae", mae).put("rmse", rmse)
                    .put("r2", r2);
        }
    }

    /** Reads what {@link #toJson} wrote (a model host's answer: the caller bounds its size). */
    static HeldOutMetrics fromJson(JsonObject json) {
        if ("regression".equals(json.getString("task"))) {
            return new Regression(json.getDouble("mae"), json.getDouble("rmse"), json.getDouble("r2"));
        }
        JsonArray matrix = json.getJsonArray("confusionMatrix");
        long[][] confusion = new long[matrix.size()][];
        for (int i = 0; i < confusion.length; i++) {
            JsonArray row = matrix.getJsonArray(i);
            confusion[i] = new long[row.size()];
            for (int j = 0; j < confusion[i].length; j++) {
                confusion[i][j] = row.getLong(j);
            }
        }
        List<String> labels = json.getJsonArray("labels").stream().map(String::valueOf).toList();
        return new Classification(labels, json.getDouble("accuracy"), json.getDouble("macroF1"), confusion);
    }

    /** The predicted class of one row of probabilities: the first largest. */
    static int argmax(float[] probabilities) {
        int best = 0;
        for (int i = 1; i < probabilities.length; i++) {
            if (probabilities[i] > probabilities[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Accuracy, macro-F1 and the confusion matrix of predicted probabilities against classes. */
    static Classification classification(List<String> labels, int[] actual, float[][] probabilities) {
        int k = labels.size();
        long[][] confusion = new long[k][k];
        long correct = 0;
        for (int i = 0; i < actual.length; i++) {
            int p = argmax(probabilities[i]);
            confusion[actual[i]][p]++;
            if (p == actual[i]) {
                correct++;
            }
        }
        double f1Sum = 0;
        for (int c = 0; c < k; c++) {
            long tp = confusion[c][c];
            long predicted = 0;
            long support = 0;
            for (int j = 0; j < k; j++) {
                predicted += confusion[j][c];
                support += confusion[c][j];
            }
            f1Sum += predicted + support == 0 ? 0 : 2.0 * tp / (predicted + support);
        }
        return new Classification(labels, actual.length == 0 ? 0 : (double) correct / actual.length,
                k == 0 ? 0 : f1Sum / k, confusion);
    }

    /** MAE, RMSE and R² of one-value outputs against targets. */
    static Regression regression(double[] actual, float[][] predicted) {
        int n = actual.length;
        double mean = 0;
        for (double y : actual) {
            mean += y;
        }
        mean /= Math.max(1, n);
        double abs = 0;
        double sq = 0;
        double tot = 0;
        for (int i = 0; i < n; i++) {
            double e = predicted[i][0] - actual[i];
            abs += Math.abs(e);
            sq += e * e;
            tot += (actual[i] - mean) * (actual[i] - mean);
        }
        return new Regression(abs / Math.max(1, n), Math.sqrt(sq / Math.max(1, n)),
                tot == 0 ? 0 : 1 - sq / tot);
    }

    /** Measures a model on rows of a dataset. */
    static HeldOutMetrics measure(TrainedModel model, CsvDataset data, int[] rows) {
        float[][] outputs = model.predict(data.rows(rows));
        if (data.task() == TrainingTask.CLASSIFICATION) {
            int[] actual = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                actual[i] = data.classIndex(rows[i]);
            }
            return classification(model.labels(), actual, outputs);
        }
        double[] actual = new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            actual[i] = data.target(rows[i]);
        }
        return regression(actual, outputs);
    }
}
