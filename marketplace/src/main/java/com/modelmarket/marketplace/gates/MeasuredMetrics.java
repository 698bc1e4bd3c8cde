package com.modelmarket.marketplace.gates;

import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.catalog.ArtifactValidator;
import com.modelmarket.marketplace.catalog.CatalogService;
import com.modelmarket.marketplace.catalog.ModelVersion;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.marketplace.tenants.Role;
import com.modelmarket.marketplace.training.Dataset;
import com.modelmarket.marketplace.training.DatasetService;
import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TensorSpec;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.training.CsvDataset;
import com.modelmarket.serving.training.CsvLimits;
import com.modelmarket.serving.training.TrainingTask;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link MetricSource} that measures: the dataset's rows go through the serving engine (the
 * version loaded there if it is not, as a call would load it), in small requests one after the
 * other, and the metric is computed on every row. Only tabular versions fit: one FP32 input
 * {@code [-1, N]} with N the dataset's feature columns (missing cells take the column's mean), and
 * a first output of class scores with {@code labels} (classification; the label names must be the
 * dataset's classes) or one value (regression). These runs are the platform's own: not metered.
 * Figures are kept per version, dataset and metric (all three immutable).
 */
public final class MeasuredMetrics implements MetricSource {

    /** Rows per request: small, so the model's other callers interleave with the measurement. */
    static final int ROWS_PER_REQUEST = 16;
    private static final int MAX_CACHED = 10_000;

    private final Vertx vertx;
    private final CatalogService catalog;
    private final DatasetService datasets;
    private final ModelStore store;
    private final ServingEngine engine;
    private final PoolConfig pool;
    private final CsvLimits limits;
    private final Map<String, Optional<Double>> known = new ConcurrentHashMap<>();

    public MeasuredMetrics(Vertx vertx, CatalogService catalog, DatasetService datasets, ModelStore store, ServingEngine engine,
                           PoolConfig pool, CsvLimits limits) {
        this.vertx = vertx;
        this.catalog = catalog;
        this.datasets = datasets;
        this.store = store;
        this.engine = engine;
        this.pool = pool;
        this.limits = limits;
    }

    @Override
    public Future<Optional<Double>> metric(UUID tenant, UUID versionId, UUID datasetId, String metricName) {
        Optional<GateMetric> metric = GateMetric.parse(metricName);
        if (metric.isEmpty()) {
            return Future.succeededFuture(Optional.empty());
        }
        String key = versionId + "|" + datasetId + "|" + metricName;
        Optional<Double> figure = known.get(key);
        if (figure != null) {
            return Future.succeededFuture(figure);
        }
        // the dataset read as a member of the owning tenant: row-level security keeps it to that tenant
        Principal reader = new Principal(null, tenant, Role.MEMBER, null);
        return catalog.ownVersion(tenant, versionId).compose(version -> version.isEmpty()
                ? Future.succeededFuture(Optional.<Double>empty())
                : datasets.get(reader, datasetId)
                        .compose(dataset -> measure(version.get(), dataset, metric.get()))
                        .recover(err -> err instanceof NotFoundException ? Future.succeededFuture(Optional.empty())
                                : Future.failedFuture(err)))
                .onSuccess(result -> {
                    if (known.size() >= MAX_CACHED) {
                        known.clear();
                    }
                    known.put(key, result);
                });
    }

    private Future<Optional<Double>> measure(ModelVersion version, Dataset dataset, GateMetric metric) {
        TrainingTask task = metric.classification() ? TrainingTask.CLASSIFICATION : TrainingTask.REGRESSION;
        if (!task.jsonName().equals(dataset.task())) {
            return Future.succeededFuture(Optional.empty());
        }
        ModelManifest manifest = ModelManifest.fromJson(version.manifest());
        return vertx.executeBlocking(() -> read(dataset, task), false).compose(rows -> {
            Optional<Fit> fit = fit(manifest, rows, task);
            if (fit.isEmpty()) {
                return Future.succeededFuture(Optional.<Double>empty());
            }
            ModelKey key = ArtifactValidator.keyOf(version.tenantId(), version.modelId(), version.id());
            return loaded(key, version, manifest)
                    .compose(v -> predict(key, fit.get(), rows, 0, new double[rows.rowCount()]))
                    .map(predicted -> Optional.of(score(metric, rows, predicted, fit.get())));
        });
    }

    private CsvDataset read(Dataset dataset, TrainingTask task) throws java.io.IOException {
        var file = store.find(dataset.sha256())
                .orElseThrow(() -> new java.io.IOException("the dataset's file " + dataset.sha256() + " is gone from the store"));
        try (InputStream in = Files.newInputStream(ModelStore.verify(file).path())) {
            return CsvDataset.parse(in, dataset.labelColumn(), task, limits);
        }
    }

    /** How a version's tensors meet the dataset: its input's name, output's name, and label per class. */
    private record Fit(String input, String output, int width, int[] classOfLabel) {
    }

    private static Optional<Fit> fit(ModelManifest manifest, CsvDataset rows, TrainingTask task) {
        if (manifest.inputs().size() != 1 || manifest.outputs().isEmpty()) {
            return Optional.empty();
        }
        TensorSpec in = manifest.inputs().get(0);
        TensorSpec out = manifest.outputs().get(0);
        if (in.datatype() != DataType.FP32 || in.rank() != 2 || in.shape()[1] != rows.featureCount()
                || out.rank() != 2 || out.datatype() != DataType.FP32) {
            return Optional.empty();
        }
        if (task == TrainingTask.REGRESSION) {
            return out.shape()[1] == 1 ? Optional.of(new Fit(in.name(), out.name(), 1, new int[0])) : Optional.empty();
        }
        List<String> labels = out.labels();
        if (labels.isEmpty() || out.shape()[1] != labels.size()) {
            return Optional.empty();
        }
        int[] classOfLabel = new int[labels.size()];
        for (int i = 0; i < labels.size(); i++) {
            classOfLabel[i] = rows.classes().indexOf(labels.get(i)); // -1: a label the dataset never has
        }
        return Optional.of(new Fit(in.name(), out.name(), labels.size(), classOfLabel));
    }

    private Future<Void> loaded(ModelKey key, ModelVersion version, ModelManifest manifest) {
        if (engine.status(key).isPresent()) {
            return Future.succeededFuture();
        }
        return store.find(version.artifactSha256())
                .map(artifact -> engine.load(key, artifact, manifest, pool).<Void>mapEmpty())
                .orElseGet(() -> Future.failedFuture(new IllegalStateException("artifact " + version.artifactSha256()
                        + " is missing from the store")));
    }

    /** Runs rows {@code from} on, a request at a time; a classification's prediction is the class index (or -1). */
    private Future<double[]> predict(ModelKey key, Fit fit, CsvDataset rows, int from, double[] predicted) {
        if (from >= rows.rowCount()) {
            return Future.succeededFuture(predicted);
        }
        int n = Math.min(ROWS_PER_REQUEST, rows.rowCount() - from);
        int width = rows.featureCount();
        float[] data = new float[n * width];
        var stats = rows.columnStats();
        for (int r = 0; r < n; r++) {
            float[] row = rows.row(from + r);
            for (int c = 0; c < width; c++) {
                data[r * width + c] = Float.isNaN(row[c]) ? (float) stats.get(c).mean() : row[c];
            }
        }
        Tensor input = Tensor.ofFloats(fit.input(), new long[] {n, width}, data);
        return engine.infer(key, InferenceRequest.of(input).withOutputs(fit.output())).compose(result -> {
            float[] out = result.output(fit.output()).toFloats();
            for (int r = 0; r < n; r++) {
                if (fit.classOfLabel().length == 0) {
                    predicted[from + r] = out[r];
                } else {
                    int best = 0;
                    for (int k = 1; k < fit.width(); k++) {
                        if (out[r * fit.width() + k] > out[r * fit.width() + best]) {
                            best = k;
                        }
                    }
                    predicted[from + r] = fit.classOfLabel()[best];
                }
            }
            return predict(key, fit, rows, from + n, predicted);
        });
    }

    static double score(GateMetric metric, CsvDataset rows, double[] predicted, Fit fit) {
        int n = rows.rowCount();
        switch (metric) {
            case ACCURACY: {
                int right = 0;
                for (int i = 0; i < n; i++) {
                    right += predicted[i] == rows.classIndex(i) ? 1 : 0;
                }
                return (double) right / n;
            }
            case MACRO_F1: {
                int classes = rows.classes().size();
                double sum = 0;
                for (int k = 0; k < classes; k++) {
                    int tp = 0;
                    int fp = 0;
                    int fn = 0;
                    for (int i = 0; i < n; i++) {
                        boolean said = predicted[i] == k;
                        boolean is = rows.classIndex(i) == k;
                        tp += said && is ? 1 : 0;
                        fp += said && !is ? 1 : 0;
                        fn += !said && is ? 1 : 0;
                    }
                    sum += tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
                }
                return sum / classes;
            }
            case MAE: {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += Math.abs(predicted[i] - rows.target(i));
                }
                return s / n;
            }
            case RMSE: {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    double d = predicted[i] - rows.target(i);
                    s += d * d;
                }
                return Math.sqrt(s / n);
            }
            default:
                throw new IllegalArgumentException(metric.toString());
        }
    }
}
