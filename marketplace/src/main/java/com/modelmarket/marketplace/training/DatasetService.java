package com.modelmarket.marketplace.training;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.catalog.CatalogService;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.DatasetRefusedException;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import com.modelmarket.serving.training.CsvDataset;
import com.modelmarket.serving.training.CsvLimits;
import com.modelmarket.serving.training.TrainingTask;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * Datasets: a tenant's uploaded CSV, parsed once (on a worker thread) into its shape, column
 * statistics and label classes. A refusal names the row and column; nothing is created then. The
 * file stays in the shared store under the uploader's ownership; a dataset belongs to its tenant.
 */
public final class DatasetService {

    private static final int PREVIEW_ROWS = 5;

    private final Vertx vertx;
    private final Pool pool;
    private final CatalogService catalog;
    private final ModelStore store;
    private final AuditLog audit;
    private final CsvLimits limits;
    private final DatasetRepository repository = new DatasetRepository();

    public DatasetService(Vertx vertx, Pool pool, CatalogService catalog, ModelStore store, AuditLog audit, CsvLimits limits) {
        this.vertx = vertx;
        this.pool = pool;
        this.catalog = catalog;
        this.store = store;
        this.audit = audit;
        this.limits = limits;
    }

    /** What a caller sends to make a dataset. */
    public record Input(String uploadSha256, String name, String labelColumn, String task) {
    }

    public Future<Dataset> create(Actor actor, Input in) {
        Principal p = requireTrainer(actor.principal());
        TrainingTask task = task("/task", in.task());
        return catalog.ownUpload(p.tenantId(), "/uploadSha256", in.uploadSha256())
                .compose(file -> vertx.executeBlocking(() -> parse(file, in.labelColumn(), task), false)
                        .compose(parsed -> TenantScope.tenant(pool, p.tenantId(), tx -> repository.insert(tx, p.tenantId(),
                                        in.name(), file.sha256(), file.sizeBytes(), task.jsonName(), in.labelColumn(),
                                        parsed.data().rowCount(), summary(parsed), p.userId())
                                .compose(d -> audit.record(tx, p.tenantId(), actor, "dataset.create", "dataset", d.id(),
                                        new JsonObject().put("name", d.name()).put("rows", d.rowCount())).map(v -> d)))));
    }

    public Future<List<Dataset>> list(Principal caller) {
        return TenantScope.tenant(pool, caller.tenantId(), c -> repository.list(c, caller.tenantId()));
    }

    public Future<Dataset> get(Principal caller, UUID id) {
        return TenantScope.tenant(pool, caller.tenantId(), c -> repository.find(c, caller.tenantId(), id))
                .compose(found -> found.map(Future::succeededFuture)
                        .orElseGet(() -> Future.failedFuture(new NotFoundException("Dataset"))));
    }

    public Future<Void> delete(Actor actor, UUID id) {
        Principal p = requireTrainer(actor.principal());
        return TenantScope.tenant(pool, p.tenantId(), tx -> repository.delete(tx, p.tenantId(), id).compose(deleted -> deleted
                ? audit.record(tx, p.tenantId(), actor, "dataset.delete", "dataset", id, new JsonObject())
                : Future.failedFuture(new NotFoundException("Dataset"))));
    }

    /** Reads the dataset's rows again for a job (a worker thread's call: blocking). */
    /** The bounds a dataset's file was read with (and is read again with by a job). */
    CsvLimits limits() {
        return limits;
    }

    public CsvDataset load(Dataset dataset) throws IOException {
        StoredArtifact file = store.find(dataset.sha256())
                .orElseThrow(() -> new IOException("the dataset's file " + dataset.sha256() + " is gone from the store"));
        try (InputStream in = Files.newInputStream(ModelStore.verify(file).path())) {
            return CsvDataset.parse(in, dataset.labelColumn(), task("/task", dataset.task()), limits);
        }
    }

    static TrainingTask task(String pointer, String name) {
        for (TrainingTask t : TrainingTask.values()) {
            if (t.jsonName().equals(name)) {
                return t;
            }
        }
        throw new InvalidFieldException(pointer, "must be classification or regression");
    }

    static Principal requireTrainer(Principal p) {
        if (!p.role().canPublish()) {
            throw new ForbiddenException("Only owners, admins and publishers create datasets and training jobs");
        }
        return p;
    }

    private record Parsed(CsvDataset data, List<String> header, List<List<String>> preview) {
    }

    private Parsed parse(StoredArtifact file, String label, TrainingTask task) throws IOException {
        CsvDataset data;
        try (InputStream in = Files.newInputStream(ModelStore.verify(file).path())) {
            data = CsvDataset.parse(in, label, task, limits);
        } catch (com.modelmarket.serving.training.DatasetRefusedException e) {
            throw refused(e);
        }
        List<String> header = List.of();
        List<List<String>> rows = new java.util.ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(Files.newInputStream(file.path()), StandardCharsets.UTF_8))) {
            String line = reader.readLine();
            header = line == null ? List.of() : List.of(line.split(",", -1));
            while (rows.size() < PREVIEW_ROWS && (line = reader.readLine()) != null) {
                rows.add(List.of(line.split(",", -1)));
            }
        }
        return new Parsed(data, header, rows);
    }

    /** The training library's refusal as the marketplace's domain error (422, naming row and column). */
    static DatasetRefusedException refused(com.modelmarket.serving.training.DatasetRefusedException e) {
        return new DatasetRefusedException(e.reason().name().toLowerCase(Locale.ROOT).replace('_', '-'), e.line(), e.row(),
                e.column(), e.getMessage());
    }

    private static JsonObject summary(Parsed parsed) {
        CsvDataset d = parsed.data();
        JsonArray columns = new JsonArray();
        d.columnStats().forEach(s -> columns.add(s.toJson()));
        JsonArray classes = new JsonArray();
        long[] counts = d.classCounts();
        for (int i = 0; i < d.classes().size(); i++) {
            classes.add(new JsonObject().put("name", d.classes().get(i)).put("rows", counts[i]));
        }
        JsonArray preview = new JsonArray();
        parsed.preview().forEach(r -> preview.add(new JsonArray(r)));
        return new JsonObject().put("columns", columns).put("features", new JsonArray(d.featureNames())).put("classes", classes)
                .put("preview", new JsonObject().put("header", new JsonArray(parsed.header())).put("rows", preview));
    }
}
