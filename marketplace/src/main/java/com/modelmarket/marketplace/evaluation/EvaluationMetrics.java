package com.modelmarket.marketplace.evaluation;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The figures of an evaluation, from the model's own outputs as serving returned them. Pure: no
 * I/O, so a test can recompute them from the same predictions.
 *
 * <p>Classification: the predicted class is the first largest score; accuracy; macro-F1, the mean
 * F1 over the classes that occur among the labels or the predictions (scikit-learn's {@code
 * average="macro"}); per-class precision, recall (0 where nothing was predicted or present) and
 * support; the confusion matrix ({@code [actual][predicted]}, classes in the output's label order);
 * and top-k accuracy (the true class among the k largest scores, ties counted in its favour) for
 * k = min(3, classes - 1) when there are more than two classes. Regression: MAE, RMSE and R² (0
 * when the labels are all equal).
 */
final class EvaluationMetrics {

    private EvaluationMetrics() {
    }

    /** The predicted class of one row's scores: the first largest. */
    static int argmax(double[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] > scores[best]) {
                best = i;
            }
        }
        return best;
    }

    static JsonObject classification(List<String> labels, int[] actual, double[][] scores) {
        int k = labels.size();
        long[][] confusion = new long[k][k];
        long correct = 0;
        int topK = k > 2 ? Math.min(3, k - 1) : 0;
        long inTopK = 0;
        for (int i = 0; i < actual.length; i++) {
            int p = argmax(scores[i]);
            confusion[actual[i]][p]++;
            if (p == actual[i]) {
                correct++;
            }
            int above = 0;
            for (double s : scores[i]) {
                if (s > scores[i][actual[i]]) {
                    above++;
                }
            }
            if (above < topK) {
                inTopK++;
            }
        }
        JsonArray perClass = new JsonArray();
        double f1Sum = 0;
        int f1Classes = 0;
        for (int c = 0; c < k; c++) {
            long tp = confusion[c][c];
            long predicted = 0;
            long support = 0;
            for (int j = 0; j < k; j++) {
                predicted += confusion[j][c];
                support += confusion[c][j];
            }
            double precision = predicted == 0 ? 0 : (double) tp / predicted;
            double recall = support == 0 ? 0 : (double) tp / support;
            if (predicted + support > 0) {
                f1Sum += 2.0 * tp / (predicted + support);
                f1Classes++;
            }
            perClass.add(new JsonObject().put("label", labels.get(c)).put("precision", precision).put("recall", recall)
                    .put("support", support));
        }
        JsonArray matrix = new JsonArray();
        for (long[] row : confusion) {
            JsonArray r = new JsonArray();
            for (long v : row) {
                r.add(v);
            }
            matrix.add(r);
        }
        JsonObject out = new JsonObject().put("task", "classification").put("rows", actual.length)
                .put("accuracy", actual.length == 0 ? 0.0 : (double) correct / actual.length)
                .put("macroF1", f1Classes == 0 ? 0.0 : f1Sum / f1Classes)
                .put("labels", new JsonArray(List.copyOf(labels)))
                .put("perClass", perClass)
                .put("confusionMatrix", matrix);
        if (topK > 0) {
            out.put("topK", topK).put("topKAccuracy", actual.length == 0 ? 0.0 : (double) inTopK / actual.length);
        }
        return out;
    }

    static JsonObject regression(double[] actual, double[] predicted) {
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
            double e = predicted[i] - actual[i];
            abs += Math.abs(e);
            sq += e * e;
            tot += (actual[i] - mean) * (actual[i] - mean);
        }
        return new JsonObject().put("task", "regression").put("rows", n).put("mae", abs / Math.max(1, n))
                .put("rmse", Math.sqrt(sq / Math.max(1, n))).put("r2", tot == 0 ? 0.0 : 1 - sq / tot);
    }

    /** The figures two runs on the same rows share, as {@code other − base}: what changed from one version to the other. */
    static JsonObject deltas(JsonObject base, JsonObject other) {
        JsonObject out = new JsonObject();
        for (String name : List.of("accuracy", "macroF1", "topKAccuracy", "mae", "rmse", "r2")) {
            if (base.getValue(name) instanceof Number a && other.getValue(name) instanceof Number b) {
                out.put(name, b.doubleValue() - a.doubleValue());
            }
        }
        return out;
    }
}
