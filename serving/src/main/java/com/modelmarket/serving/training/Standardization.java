package com.modelmarket.serving.training;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Feature scaling learned on the training split only and kept with the model: each feature becomes
 * {@code (x - mean) / scale} (scale = the population standard deviation, 1 for a constant column); a
 * missing value (NaN) becomes 0, i.e. the training mean. For regression the target is scaled the
 * same way for training and unscaled on output. Float arithmetic, so a loaded model scales exactly
 * as the trained one did.
 */
public record Standardization(float[] mean, float[] scale, float targetMean, float targetScale) {

    /** Learns the scaling from the given rows of a dataset. */
    static Standardization fit(CsvDataset data, int[] rows) {
        int f = data.featureCount();
        float[] mean = new float[f];
        float[] scale = new float[f];
        for (int c = 0; c < f; c++) {
            double sum = 0;
            long n = 0;
            for (int r : rows) {
                float v = data.rawFeature(r, c);
                if (!Float.isNaN(v)) {
                    sum += v;
                    n++;
                }
            }
            double m = n == 0 ? 0 : sum / n;
            double sq = 0;
            for (int r : rows) {
                float v = data.rawFeature(r, c);
                if (!Float.isNaN(v)) {
                    sq += (v - m) * (v - m);
                }
            }
            double sd = n == 0 ? 0 : Math.sqrt(sq / n);
            mean[c] = (float) m;
            scale[c] = sd > 1e-12 && Float.isFinite((float) sd) ? (float) sd : 1f;
        }
        float tMean = 0;
        float tScale = 1;
        if (data.task() == TrainingTask.REGRESSION) {
            double sum = 0;
            for (int r : rows) {
                sum += data.target(r);
            }
            double m = sum / rows.length;
            double sq = 0;
            for (int r : rows) {
                sq += (data.target(r) - m) * (data.target(r) - m);
            }
            double sd = Math.sqrt(sq / rows.length);
            tMean = (float) m;
            tScale = sd > 1e-12 ? (float) sd : 1f;
        }
        return new Standardization(mean, scale, tMean, tScale);
    }

    /** Scales raw rows (NaN = missing) into one row-major array. */
    float[] apply(float[][] rows) {
        int f = mean.length;
        float[] out = new float[rows.length * f];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r].length != f) {
                throw new IllegalArgumentException("row " + r + " has " + rows[r].length
                        + " features, the model takes " + f);
            }
            for (int c = 0; c < f; c++) {
                float v = rows[r][c];
                out[r * f + c] = Float.isNaN(v) ? 0f : (v - mean[c]) / scale[c];
            }
        }
        return out;
    }

    float scaleTarget(double y) {
        return (float) ((y - targetMean) / targetScale);
    }

    float unscaleTarget(float y) {
        return y * targetScale + targetMean;
    }

    JsonObject toJson() {
        return new JsonObject()
                .put("featureMean", floats(mean))
                .put("featureScale", floats(scale))
                .put("targetMean", (double) targetMean)
                .put("targetScale", (double) targetScale);
    }

    static Standardization fromJson(JsonObject o, int features) {
        float[] mean = floats(o.getJsonArray("featureMean"), features);
        float[] scale = floats(o.getJsonArray("featureScale"), features);
        for (float s : scale) {
            if (!(s > 0) || !Float.isFinite(s)) {
                throw new IllegalArgumentException("a feature scale is not a positive number");
            }
        }
        return new Standardization(mean, scale, o.getDouble("targetMean").floatValue(),
                o.getDouble("targetScale").floatValue());
    }

    private static JsonArray floats(float[] values) {
        JsonArray a = new JsonArray();
        for (float v : values) {
            a.add((double) v); // float -> double -> JSON -> double -> float is exact
        }
        return a;
    }

    private static float[] floats(JsonArray a, int n) {
        if (a == null || a.size() != n) {
            throw new IllegalArgumentException("expected " + n + " values");
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = a.getDouble(i).floatValue();
        }
        return out;
    }
}
