package com.modelmarket.marketplace.evaluation;

import com.modelmarket.serving.training.CsvDataset;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The rows where two versions' predictions disagree, for a comparison: all are counted, the first
 * {@code shown} listed with their 0-based data row, the label and both predictions. Classification:
 * the predicted classes differ. Regression: the values differ by more than one part in a million
 * (float noise between two runs of the same arithmetic is not a disagreement).
 */
final class Disagreements {

    private static final double RELATIVE_TOLERANCE = 1e-6;

    private Disagreements() {
    }

    static JsonObject of(ColumnMapping mapping, CsvDataset data, double[][] base, double[][] other, int shown) {
        long count = 0;
        JsonArray rows = new JsonArray();
        for (int r = 0; r < base.length; r++) {
            Object a;
            Object b;
            boolean differ;
            Object actual;
            if (mapping.classification()) {
                int pa = EvaluationMetrics.argmax(base[r]);
                int pb = EvaluationMetrics.argmax(other[r]);
                differ = pa != pb;
                a = mapping.labels().get(pa);
                b = mapping.labels().get(pb);
                actual = mapping.labels().get(mapping.actualClass(data, r));
            } else {
                double va = base[r][0];
                double vb = other[r][0];
                differ = Math.abs(va - vb) > RELATIVE_TOLERANCE * Math.max(1.0, Math.abs(va));
                a = va;
                b = vb;
                actual = data.target(r);
            }
            if (differ) {
                count++;
                if (rows.size() < shown) {
                    rows.add(new JsonObject().put("row", r).put("actual", actual).put("base", a).put("other", b));
                }
            }
        }
        return new JsonObject().put("count", count).put("rows", rows);
    }
}
