package com.modelmarket.serving.training;

import io.vertx.core.json.JsonObject;

/**
 * Summary of one numeric column over the rows that have a value; {@code missing} counts empty
 * cells. Min, max and mean are NaN when every cell is missing.
 */
public record ColumnStats(String name, double min, double max, double mean, long missing) {

    public JsonObject toJson() {
        return new JsonObject()
                .put("name", name)
                .put("min", finiteOrNull(min))
                .put("max", finiteOrNull(max))
                .put("mean", finiteOrNull(mean))
                .put("missing", missing);
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
