package com.modelmarket.marketplace.gates;

import com.modelmarket.marketplace.errors.InvalidFieldException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A model's publish gates, set by its publisher (none until then): the schema check (on in a body
 * that does not say {@code "schema": false}) and metric gates, each "metric on dataset no worse
 * than the current version's by more than maxDrop".
 */
public record GateSettings(boolean schemaCheck, List<MetricGate> metrics) {

    public static final int MAX_METRIC_GATES = 5;

    /** The settings of a model whose publisher never set any: no gates (they are opted into per model). */
    public static final GateSettings DEFAULT = new GateSettings(false, List.of());

    public record MetricGate(GateMetric metric, UUID datasetId, double maxDrop) {
        JsonObject toJson() {
            return new JsonObject().put("metric", metric.wire()).put("datasetId", datasetId.toString()).put("maxDrop", maxDrop);
        }
    }

    public GateSettings {
        metrics = List.copyOf(metrics);
    }

    public JsonObject toJson() {
        JsonArray list = new JsonArray();
        metrics.forEach(m -> list.add(m.toJson()));
        return new JsonObject().put("schema", schemaCheck).put("metrics", list);
    }

    /** Reads a stored row's metric gates (written by {@link #fromRequest}, so trusted). */
    static GateSettings fromStored(boolean schemaCheck, JsonArray metrics) {
        return fromRequest(new JsonObject().put("schema", schemaCheck).put("metrics", metrics));
    }

    /** Reads and checks a publisher's body; 400 naming the field. */
    public static GateSettings fromRequest(JsonObject body) {
        for (String key : body.fieldNames()) {
            if (!List.of("schema", "metrics").contains(key)) {
                throw new InvalidFieldException("/" + key, "not a gate setting (schema, metrics)");
            }
        }
        Object schema = body.getValue("schema", true);
        if (!(schema instanceof Boolean schemaCheck)) {
            throw new InvalidFieldException("/schema", "must be true or false");
        }
        Object raw = body.getValue("metrics", new JsonArray());
        if (!(raw instanceof JsonArray list)) {
            throw new InvalidFieldException("/metrics", "must be an array");
        }
        if (list.size() > MAX_METRIC_GATES) {
            throw new InvalidFieldException("/metrics", "at most " + MAX_METRIC_GATES + " metric gates");
        }
        List<MetricGate> gates = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "/metrics/" + i;
            if (!(list.getValue(i) instanceof JsonObject g)) {
                throw new InvalidFieldException(at, "must be {\"metric\", \"datasetId\", \"maxDrop\"}");
            }
            GateMetric metric = GateMetric.parse(String.valueOf(g.getValue("metric")))
                    .orElseThrow(() -> new InvalidFieldException(at + "/metric", "must be one of " + GateMetric.names()));
            UUID dataset;
            try {
                dataset = UUID.fromString(String.valueOf(g.getValue("datasetId")));
            } catch (IllegalArgumentException e) {
                throw new InvalidFieldException(at + "/datasetId", "must be the id of one of your datasets");
            }
            if (!(g.getValue("maxDrop") instanceof Number drop) || !Double.isFinite(drop.doubleValue())
                    || drop.doubleValue() < 0 || drop.doubleValue() > 1_000_000) {
                throw new InvalidFieldException(at + "/maxDrop", "must be a number from 0 (no worse at all) up");
            }
            gates.add(new MetricGate(metric, dataset, drop.doubleValue()));
        }
        return new GateSettings(schemaCheck, gates);
    }
}
