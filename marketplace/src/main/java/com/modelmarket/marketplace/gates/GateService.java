package com.modelmarket.marketplace.gates;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.catalog.CatalogModel;
import com.modelmarket.marketplace.catalog.CatalogService;
import com.modelmarket.marketplace.catalog.ModelVersion;
import com.modelmarket.marketplace.catalog.PublishGuard;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.marketplace.training.DatasetService;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A model's publish gates: the publisher reads and sets them (anyone else gets 404), and the
 * catalog asks them (as its {@link PublishGuard}) before a version moves into an alias. The schema
 * gate compares manifests ({@link SchemaCompatibility}): a breaking change is refused unless the
 * candidate's major version is higher. A metric gate compares the two versions' figures from the
 * {@link MetricSource}: a candidate worse by more than {@code maxDrop} is refused, and so is one
 * whose figure cannot be had (it does not fit the dataset); a current version without a figure
 * leaves nothing to compare, and the gate passes, saying so.
 */
public final class GateService implements PublishGuard {

    private final Pool pool;
    private final CatalogService catalog;
    private final DatasetService datasets;
    private final MetricSource metrics;
    private final AuditLog audit;
    private final GateRepository repository = new GateRepository();

    public GateService(Pool pool, CatalogService catalog, DatasetService datasets, MetricSource metrics, AuditLog audit) {
        this.pool = pool;
        this.catalog = catalog;
        this.datasets = datasets;
        this.metrics = metrics;
        this.audit = audit;
    }

    /** The gates of a model of the caller's (the defaults if never set); 404 for anyone else's. */
    public Future<GateSettings> get(Actor actor, String idOrSlug) {
        UUID tenant = actor.principal().tenantId();
        return catalog.splits().ownModel(actor, idOrSlug).compose(model -> TenantScope.tenant(pool, tenant,
                c -> repository.find(c, tenant, model.id())).map(found -> found.orElse(GateSettings.DEFAULT)));
    }

    /** Sets a model's gates; each metric gate's dataset must be one of the caller's, of the metric's task. */
    public Future<GateSettings> put(Actor actor, String idOrSlug, GateSettings settings) {
        if (!actor.principal().role().canPublish()) {
            throw new ForbiddenException("Only owners, admins and publishers set publish gates");
        }
        UUID tenant = actor.principal().tenantId();
        return catalog.splits().ownModel(actor, idOrSlug).compose(model -> checkDatasets(actor, settings, 0)
                .compose(v -> TenantScope.tenant(pool, tenant, tx -> repository.upsert(tx, tenant, model.id(), settings,
                                actor.principal().userId())
                        .compose(x -> audit.record(tx, tenant, actor, "gates.update", "model", model.id(),
                                new JsonObject().put("model", model.slug()).put("gates", settings.toJson()))))))
                .map(settings);
    }

    private Future<Void> checkDatasets(Actor actor, GateSettings settings, int i) {
        if (i >= settings.metrics().size()) {
            return Future.succeededFuture();
        }
        GateSettings.MetricGate gate = settings.metrics().get(i);
        String at = "/metrics/" + i + "/datasetId";
        return datasets.get(actor.principal(), gate.datasetId())
                .recover(err -> Future.failedFuture(err instanceof NotFoundException
                        ? NotFoundException.at(at, at + ": no dataset of yours has this id") : err))
                .compose(d -> {
                    if (!d.task().equals(gate.metric().classification() ? "classification" : "regression")) {
                        return Future.failedFuture(new InvalidFieldException("/metrics/" + i + "/metric",
                                gate.metric().wire() + " does not apply to a " + d.task() + " dataset"));
                    }
                    return checkDatasets(actor, settings, i + 1);
                });
    }

    @Override
    public Future<Verdict> check(UUID owner, CatalogModel model, ModelVersion current, ModelVersion candidate, Scope scope) {
        return TenantScope.tenant(pool, owner, c -> repository.find(c, owner, model.id())).compose(found -> {
            GateSettings settings = found.orElse(GateSettings.DEFAULT);
            List<Map<String, Object>> checked = new ArrayList<>();
            if (settings.schemaCheck()) {
                checked.add(schema(current, candidate));
            }
            if (scope == Scope.SCHEMA_ONLY) {
                return Future.succeededFuture(verdict(checked));
            }
            return metricGates(owner, settings.metrics(), 0, current, candidate, checked).map(v -> verdict(checked));
        });
    }

    private static Verdict verdict(List<Map<String, Object>> checked) {
        return new Verdict(checked, checked.stream().filter(g -> Boolean.FALSE.equals(g.get("passed"))).toList());
    }

    private static Map<String, Object> schema(ModelVersion current, ModelVersion candidate) {
        List<String> breaking = SchemaCompatibility.breakingChanges(current.manifest(), candidate.manifest());
        boolean newMajor = major(candidate) > major(current);
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("gate", "schema");
        g.put("currentVersion", current.version());
        g.put("candidateVersion", candidate.version());
        g.put("breakingChanges", breaking);
        g.put("passed", breaking.isEmpty() || newMajor);
        if (!breaking.isEmpty()) {
            g.put("reason", newMajor ? "breaking changes under a new major version"
                    : "a breaking change needs a new major version (" + (major(current) + 1) + ".0.0)");
        }
        return g;
    }

    /** A version's major number (versions are MAJOR.MINOR.PATCH, checked when they were made). */
    private static int major(ModelVersion v) {
        return Integer.parseInt(v.version().substring(0, v.version().indexOf('.')));
    }

    private Future<Void> metricGates(UUID owner, List<GateSettings.MetricGate> gates, int i, ModelVersion current,
                                     ModelVersion candidate, List<Map<String, Object>> checked) {
        if (i >= gates.size()) {
            return Future.succeededFuture();
        }
        GateSettings.MetricGate gate = gates.get(i);
        String metric = gate.metric().wire();
        return metrics.metric(owner, current.id(), gate.datasetId(), metric)
                .compose(was -> metrics.metric(owner, candidate.id(), gate.datasetId(), metric).map(now -> {
                    Map<String, Object> g = new LinkedHashMap<>();
                    g.put("gate", "metric");
                    g.put("metric", metric);
                    g.put("datasetId", gate.datasetId().toString());
                    g.put("maxDrop", gate.maxDrop());
                    g.put("currentVersion", current.version());
                    g.put("current", was.orElse(null));
                    g.put("candidateVersion", candidate.version());
                    g.put("candidate", now.orElse(null));
                    if (now.isEmpty()) {
                        g.put("passed", false);
                        g.put("reason", "the candidate cannot be measured on this dataset (its inputs or outputs do not fit it)");
                    } else if (was.isEmpty()) {
                        g.put("passed", true);
                        g.put("reason", "the current version has no figure on this dataset: nothing to compare");
                    } else {
                        double worse = gate.metric().worseBy(was.get(), now.get());
                        g.put("worseBy", worse);
                        // a hair of tolerance: figures are sums of floats, and "no worse by more than 0" must pass a tie
                        g.put("passed", worse <= gate.maxDrop() + 1e-9);
                        if (worse > gate.maxDrop() + 1e-9) {
                            g.put("reason", metric + " is worse by " + worse + ", more than the allowed " + gate.maxDrop());
                        }
                    }
                    checked.add(g);
                    return (Void) null;
                }))
                .compose(v -> metricGates(owner, gates, i + 1, current, candidate, checked));
    }
}
