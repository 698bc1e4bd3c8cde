package com.modelmarket.marketplace.evaluation;

import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.training.Dataset;
import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TensorSpec;
import com.modelmarket.serving.training.CsvDataset;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which dataset columns feed which input tensor of a model, and which output the label column is
 * measured against. Checked once, when a job is made, against the version's manifest and the
 * dataset's summary (400 naming the field); then used on the job's thread to build each request's
 * tensors from CSV rows. Without a mapping, a model with one input takes every feature column in
 * file order, and the label is measured against its first output.
 *
 * <p>Evaluation feeds floating-point inputs only (FP32, FP64) whose dimensions after the first are
 * fixed: their product is the number of columns mapped to it ({@code [-1, 64]}, or {@code [-1, 1,
 * 8, 8]} from 64 columns). A classification output gives one score per class: its {@code labels}
 * name the classes (every class of the dataset must be one), or, without labels, the classes must be
 * the indices {@code 0 … K-1}. A regression output gives one value per row.
 *
 * @param inputs per input of the manifest (in its order), the dataset feature columns that fill it
 * @param output the output the label is measured against
 * @param labels the output's class names, in its score order (classification; empty for regression)
 */
record ColumnMapping(Map<TensorSpec, List<String>> inputs, TensorSpec output, List<String> labels) {

    /** Resolves a caller's mapping ({@code null}: the default) against a version's manifest and a dataset. */
    static ColumnMapping resolve(JsonObject requested, ModelManifest manifest, Dataset dataset) {
        List<String> features = dataset.summary().getJsonArray("features").stream().map(String::valueOf).toList();
        JsonObject given = requested == null ? new JsonObject() : requested;
        Object inputsValue = given.getValue("inputs");
        Map<TensorSpec, List<String>> inputs = new LinkedHashMap<>();
        if (inputsValue == null) {
            if (manifest.inputs().size() != 1) {
                throw new InvalidFieldException("/mapping/inputs", "the model has " + manifest.inputs().size()
                        + " inputs: name the columns of each, {\"<input>\": [\"<column>\", …]}");
            }
            inputs.put(manifest.inputs().get(0), features);
        } else if (inputsValue instanceof JsonObject byName) {
            for (String name : byName.fieldNames()) {
                if (manifest.inputs().stream().noneMatch(s -> s.name().equals(name))) {
                    throw new InvalidFieldException("/mapping/inputs/" + name, "is not an input of the model; its inputs are "
                            + manifest.inputs().stream().map(TensorSpec::name).toList());
                }
            }
            for (TensorSpec spec : manifest.inputs()) {
                if (!(byName.getValue(spec.name()) instanceof JsonArray columns)) {
                    throw new InvalidFieldException("/mapping/inputs/" + spec.name(), "must be the array of columns that fill the input");
                }
                List<String> names = new ArrayList<>();
                for (int i = 0; i < columns.size(); i++) {
                    if (!(columns.getValue(i) instanceof String column) || !features.contains(column)) {
                        throw new InvalidFieldException("/mapping/inputs/" + spec.name() + "/" + i,
                                "must name a feature column of the dataset (not its label column)");
                    }
                    names.add(column);
                }
                inputs.put(spec, names);
            }
        } else {
            throw new InvalidFieldException("/mapping/inputs", "must be an object: {\"<input>\": [\"<column>\", …]}");
        }
        inputs.forEach((spec, columns) -> checkInput(spec, columns, dataset));
        Object outputValue = given.getValue("output");
        if (outputValue != null && !(outputValue instanceof String)) {
            throw new InvalidFieldException("/mapping/output", "must be the name of an output of the model");
        }
        TensorSpec output = outputValue == null ? manifest.outputs().get(0) : manifest.output((String) outputValue)
                .orElseThrow(() -> new InvalidFieldException("/mapping/output", "is not an output of the model; its outputs are "
                        + manifest.outputs().stream().map(TensorSpec::name).toList()));
        return new ColumnMapping(inputs, output, labels(output, dataset));
    }

    private static void checkInput(TensorSpec spec, List<String> columns, Dataset dataset) {
        String pointer = "/mapping/inputs/" + spec.name();
        if (!spec.datatype().isFloatingPoint()) {
            throw new InvalidFieldException(pointer, "is " + spec.datatype().oipName() + "; evaluation feeds CSV numbers to FP32 or FP64 inputs");
        }
        long width = perItem(spec, pointer);
        if (width != columns.size()) {
            throw new InvalidFieldException(pointer, columns.size() + " columns are mapped; the input takes " + width + " values per row");
        }
        for (Object c : dataset.summary().getJsonArray("columns")) {
            JsonObject column = (JsonObject) c;
            if (columns.contains(column.getString("name")) && column.getLong("missing", 0L) > 0) {
                throw new InvalidFieldException("/datasetId", "column '" + column.getString("name") + "' has "
                        + column.getLong("missing") + " empty cells; an evaluation needs every mapped value");
            }
        }
    }

    /** Values per row of a tensor whose dimensions after the first are fixed. */
    private static long perItem(TensorSpec spec, String pointer) {
        long[] shape = spec.shape();
        long width = 1;
        for (int i = 1; i < shape.length; i++) {
            if (shape[i] < 1) {
                throw new InvalidFieldException(pointer, "has a variable dimension after the first; evaluation needs fixed ones");
            }
            width *= shape[i];
        }
        return width;
    }

    private static List<String> labels(TensorSpec output, Dataset dataset) {
        long k = perItem(output, "/mapping/output");
        List<String> classes = dataset.summary().getJsonArray("classes").stream()
                .map(c -> ((JsonObject) c).getString("name")).toList();
        if ("regression".equals(dataset.task())) {
            if (k != 1) {
                throw new InvalidFieldException("/mapping/output", "gives " + k + " values per row; a regression dataset is "
                        + "measured against an output of one value");
            }
            return List.of();
        }
        if (k < 2) {
            throw new InvalidFieldException("/mapping/output", "gives one value per row; a classification is measured against "
                    + "an output of one score per class");
        }
        List<String> labels = output.labels() != null && !output.labels().isEmpty() ? output.labels() : indices((int) k);
        for (String c : classes) {
            if (!labels.contains(c)) {
                throw new InvalidFieldException("/mapping/output", "the dataset's class '" + c + "' is not one of the output's "
                        + (output.labels() == null || output.labels().isEmpty() ? "class indices 0.." + (k - 1) : "labels " + labels));
            }
        }
        return List.copyOf(labels);
    }

    private static List<String> indices(int k) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            out.add(Integer.toString(i));
        }
        return out;
    }

    boolean classification() {
        return !labels.isEmpty();
    }

    /** The input tensors of rows {@code [from, to)} of the data, shaped as the manifest says. */
    List<Tensor> tensors(CsvDataset data, int from, int to) {
        List<Tensor> out = new ArrayList<>();
        List<String> features = data.featureNames();
        for (Map.Entry<TensorSpec, List<String>> e : inputs.entrySet()) {
            TensorSpec spec = e.getKey();
            int[] at = e.getValue().stream().mapToInt(features::indexOf).toArray();
            long[] shape = spec.shape();
            shape[0] = to - from;
            double[] values = new double[(to - from) * at.length];
            for (int r = from; r < to; r++) {
                float[] row = data.row(r);
                for (int j = 0; j < at.length; j++) {
                    values[(r - from) * at.length + j] = row[at[j]];
                }
            }
            if (spec.datatype() == DataType.FP64) {
                out.add(Tensor.ofDoubles(spec.name(), shape, values));
            } else {
                float[] floats = new float[values.length];
                for (int i = 0; i < values.length; i++) {
                    floats[i] = (float) values[i];
                }
                out.add(Tensor.ofFloats(spec.name(), shape, floats));
            }
        }
        return out;
    }

    /** The label's index among {@link #labels} for a classification row. */
    int actualClass(CsvDataset data, int row) {
        return labels.indexOf(data.classes().get(data.classIndex(row)));
    }

    /** As stored with the job and shown in its JSON: every input's columns, the output, and its labels. */
    JsonObject toJson() {
        JsonObject in = new JsonObject();
        inputs.forEach((spec, columns) -> in.put(spec.name(), new JsonArray(columns)));
        return new JsonObject().put("inputs", in).put("output", output.name())
                .put("labels", labels.isEmpty() ? null : new JsonArray(labels));
    }

}
