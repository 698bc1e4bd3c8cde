package com.modelmarket.serving.training;

import com.modelmarket.serving.training.DatasetRefusedException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A tenant's table for training: numeric feature columns (float; an empty cell is missing and held
 * as NaN) and one label column, parsed from a CSV with a header row. Classification labels are
 * class names, numbered in sorted order; regression labels are real numbers. Immutable.
 *
 * <p>Refusals ({@link DatasetRefusedException}) name the line and column: wrong column count, a
 * value that is not a number, NaN or infinity written out, an empty file, too many columns, an
 * unknown label column, a missing label, a label class with too few rows.
 */
public final class CsvDataset {

    private final TrainingTask task;
    private final String labelColumn;
    private final List<String> featureNames;
    private final float[][] features;
    private final int[] classIndices; // classification
    private final double[] targets; // regression
    private final List<String> classes;
    private final long[] classCounts;
    private final List<ColumnStats> stats;

    private CsvDataset(TrainingTask task, String labelColumn, List<String> featureNames,
            float[][] features, int[] classIndices, double[] targets, List<String> classes) {
        this.task = task;
        this.labelColumn = labelColumn;
        this.featureNames = List.copyOf(featureNames);
        this.features = features;
        this.classIndices = classIndices;
        this.targets = targets;
        this.classes = List.copyOf(classes);
        this.classCounts = new long[classes.size()];
        if (classIndices != null) {
            for (int c : classIndices) {
                classCounts[c]++;
            }
        }
        this.stats = computeStats(featureNames, features);
    }

    /** Parses a training CSV; label classes are the ones the file has, in sorted order. */
    public static CsvDataset parse(InputStream in, String labelColumn, TrainingTask task,
            CsvLimits limits) throws IOException {
        return parse(in, labelColumn, task, limits, null);
    }

    /**
     * Parses a CSV against the columns and classes of an existing model (a held-out or new-data
     * file): the feature columns must be {@code expectedFeatures} in that order, and a label that is
     * not one of {@code knownClasses} is refused. The per-class minimum does not apply.
     */
    public static CsvDataset parseFor(InputStream in, String labelColumn, TrainingTask task,
            CsvLimits limits, List<String> expectedFeatures, List<String> knownClasses)
            throws IOException {
        CsvDataset d = parse(in, labelColumn, task, limits,
                task == TrainingTask.CLASSIFICATION ? knownClasses : null);
        if (!d.featureNames.equals(expectedFeatures)) {
            throw new DatasetRefusedException(Reason.WRONG_COLUMN_COUNT, 1, null,
                    "the feature columns are " + d.featureNames + ", the model expects "
                            + expectedFeatures);
        }
        return d;
    }

    private static CsvDataset parse(InputStream in, String labelColumn, TrainingTask task,
            CsvLimits limits, List<String> knownClasses) throws IOException {
        CsvReader reader = new CsvReader(in, limits.maxBytes(), limits.maxColumns());
        List<String> header = reader.next();
        if (header == null) {
            throw new DatasetRefusedException(Reason.EMPTY, 0, null, "the file is empty");
        }
        Set<String> seen = new HashSet<>();
        for (String name : header) {
            if (name.isBlank()) {
                throw new DatasetRefusedException(Reason.MALFORMED, 1, null, "a column has no name");
            }
            if (!seen.add(name)) {
                throw new DatasetRefusedException(Reason.DUPLICATE_COLUMN, 1, name,
                        "the column name appears twice");
            }
        }
        int labelAt = header.indexOf(labelColumn);
        if (labelAt < 0) {
            throw new DatasetRefusedException(Reason.UNKNOWN_LABEL_COLUMN, 1, labelColumn,
                    "no such column in the header");
        }
        if (header.size() < 2) {
            throw new DatasetRefusedException(Reason.MALFORMED, 1, null,
                    "a dataset needs at least one feature column besides the label");
        }
        List<String> featureNames = new ArrayList<>(header);
        featureNames.remove(labelAt);

        List<float[]> rows = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        for (List<String> record = reader.next(); record != null; record = reader.next()) {
            long line = reader.line();
            if (record.size() != header.size()) {
                throw new DatasetRefusedException(Reason.WRONG_COLUMN_COUNT, line,
                        record.size() < header.size() ? header.get(record.size()) : null,
                        record.size() + " fields, the header has " + header.size());
            }
            float[] row = new float[featureNames.size()];
            int f = 0;
            for (int i = 0; i < record.size(); i++) {
                String cell = record.get(i).strip();
                if (i == labelAt) {
                    if (cell.isEmpty()) {
                        throw new DatasetRefusedException(Reason.MISSING_LABEL, line, labelColumn,
                                "the label is empty");
                    }
                    if (task == TrainingTask.CLASSIFICATION) {
                        if (knownClasses != null && !knownClasses.contains(cell)) {
                            throw new DatasetRefusedException(Reason.UNKNOWN_LABEL, line, labelColumn,
                                    "label '" + shorten(cell) + "' is not one of " + knownClasses);
                        }
                        labels.add(cell);
                    } else {
                        values.add(number(cell, line, header.get(i)));
                    }
                } else {
                    row[f++] = cell.isEmpty() ? Float.NaN : floatValue(cell, line, header.get(i));
                }
            }
            rows.add(row);
        }
        if (rows.isEmpty()) {
            throw new DatasetRefusedException(Reason.EMPTY, 0, null, "the file has no data rows");
        }
        float[][] features = rows.toArray(new float[0][]);
        if (task == TrainingTask.REGRESSION) {
            if (rows.size() < limits.minRowsPerClass()) {
                throw new DatasetRefusedException(Reason.TOO_FEW_ROWS, 0, labelColumn,
                        rows.size() + " rows, a regression needs at least " + limits.minRowsPerClass());
            }
            double[] targets = values.stream().mapToDouble(Double::doubleValue).toArray();
            return new CsvDataset(task, labelColumn, featureNames, features, null, targets, List.of());
        }
        List<String> classes = knownClasses != null
                ? List.copyOf(knownClasses) : List.copyOf(new TreeSet<>(labels));
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < classes.size(); i++) {
            index.put(classes.get(i), i);
        }
        int[] classIndices = labels.stream().mapToInt(index::get).toArray();
        CsvDataset d = new CsvDataset(task, labelColumn, featureNames, features, classIndices, null,
                classes);
        if (knownClasses == null) {
            if (classes.size() < 2) {
                throw new DatasetRefusedException(Reason.TOO_FEW_ROWS, 0, labelColumn,
                        "classification needs at least two label classes, the file has " + classes);
            }
            for (int c = 0; c < classes.size(); c++) {
                if (d.classCounts[c] < limits.minRowsPerClass()) {
                    throw new DatasetRefusedException(Reason.TOO_FEW_ROWS, 0, labelColumn,
                            "label class '" + shorten(classes.get(c)) + "' has " + d.classCounts[c]
                                    + " row(s), each class needs at least " + limits.minRowsPerClass());
                }
            }
        }
        return d;
    }

    private static float floatValue(String cell, long line, String column) {
        double v = number(cell, line, column);
        float f = (float) v;
        if (Float.isInfinite(f)) {
            throw new DatasetRefusedException(Reason.NOT_FINITE, line, column,
                    "value " + shorten(cell) + " is outside the float range");
        }
        return f;
    }

    private static double number(String cell, long line, String column) {
        double v;
        try {
            // Java accepts hex floats and a trailing d/f; a dataset holds plain decimals only
            if (!cell.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
                String lower = cell.toLowerCase(java.util.Locale.ROOT);
                if (lower.matches("[+-]?(nan|inf|infinity)")) {
                    throw new DatasetRefusedException(Reason.NOT_FINITE, line, column,
                            "value '" + shorten(cell) + "' is not a finite number");
                }
                throw new NumberFormatException();
            }
            v = Double.parseDouble(cell);
        } catch (NumberFormatException e) {
            throw new DatasetRefusedException(Reason.NOT_A_NUMBER, line, column,
                    "value '" + shorten(cell) + "' is not a number");
        }
        if (!Double.isFinite(v)) {
            throw new DatasetRefusedException(Reason.NOT_FINITE, line, column,
                    "value " + shorten(cell) + " is not a finite number");
        }
        return v;
    }

    private static String shorten(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    private static List<ColumnStats> computeStats(List<String> names, float[][] features) {
        List<ColumnStats> out = new ArrayList<>();
        for (int c = 0; c < names.size(); c++) {
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            double sum = 0;
            long missing = 0;
            for (float[] row : features) {
                float v = row[c];
                if (Float.isNaN(v)) {
                    missing++;
                } else {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                    sum += v;
                }
            }
            long present = features.length - missing;
            out.add(present == 0
                    ? new ColumnStats(names.get(c), Double.NaN, Double.NaN, Double.NaN, missing)
                    : new ColumnStats(names.get(c), min, max, sum / present, missing));
        }
        return List.copyOf(out);
    }

    public TrainingTask task() {
        return task;
    }

    public String labelColumn() {
        return labelColumn;
    }

    public List<String> featureNames() {
        return featureNames;
    }

    public int rowCount() {
        return features.length;
    }

    public int featureCount() {
        return featureNames.size();
    }

    /** A copy of one row's features (NaN = missing). */
    public float[] row(int i) {
        return features[i].clone();
    }

    /** Copies of the given rows' features. */
    public float[][] rows(int[] indices) {
        float[][] out = new float[indices.length][];
        for (int i = 0; i < indices.length; i++) {
            out[i] = features[indices[i]].clone();
        }
        return out;
    }

    float rawFeature(int row, int column) {
        return features[row][column];
    }

    /** The class index of a row (classification). */
    public int classIndex(int row) {
        requireTask(TrainingTask.CLASSIFICATION);
        return classIndices[row];
    }

    /** The target of a row (regression). */
    public double target(int row) {
        requireTask(TrainingTask.REGRESSION);
        return targets[row];
    }

    /** The label classes in index order (empty for regression). */
    public List<String> classes() {
        return classes;
    }

    /** Rows per label class, in the order of {@link #classes()}. */
    public long[] classCounts() {
        return classCounts.clone();
    }

    /** Per feature column: min, max, mean, missing cells. */
    public List<ColumnStats> columnStats() {
        return stats;
    }

    private void requireTask(TrainingTask wanted) {
        if (task != wanted) {
            throw new IllegalStateException("a " + task.jsonName() + " dataset");
        }
    }

    @Override
    public String toString() {
        return "CsvDataset[" + task.jsonName() + ", " + rowCount() + " rows, " + featureCount()
                + " features, label '" + labelColumn + "'"
                + (classes.isEmpty() ? "" : ", classes " + classes + " " + Arrays.toString(classCounts))
                + "]";
    }
}
