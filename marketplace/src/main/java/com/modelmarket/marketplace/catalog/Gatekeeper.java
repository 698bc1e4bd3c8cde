package com.modelmarket.marketplace.catalog;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.errors.GateFailedException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import java.util.Optional;

/**
 * Where the catalog asks the {@link PublishGuard} and acts on its verdict: a failing verdict is a
 * 409 with the figures unless the publisher overrides it, and an override is audited in the
 * transaction of the change it let through. The guard is installed once by the composition root
 * (the gates build on the catalog, so they cannot be handed to its constructor); until then there
 * are no gates.
 */
public final class Gatekeeper {

    private final AuditLog audit;
    private volatile PublishGuard guard = PublishGuard.NONE;

    Gatekeeper(AuditLog audit) {
        this.audit = audit;
    }

    /** Installs the gates (Platform, at start). */
    public void use(PublishGuard guard) {
        this.guard = guard;
    }

    /**
     * The verdict on {@code candidate} replacing {@code current}; fails with {@link GateFailedException}
     * when a gate fails and there is no override. No current version: nothing to compare, no gates.
     */
    Future<PublishGuard.Verdict> pass(CatalogModel model, ModelVersion current, ModelVersion candidate,
                                      PublishGuard.Scope scope, Optional<GateOverride> override) {
        if (current == null || current.id().equals(candidate.id())) {
            return Future.succeededFuture(PublishGuard.Verdict.NONE);
        }
        return guard.check(model.tenantId(), model, current, candidate, scope).compose(verdict -> {
            if (verdict.passed() || override.isPresent()) {
                return Future.succeededFuture(verdict);
            }
            return Future.failedFuture(new GateFailedException(verdict.failures().size() + " publish gate(s) refuse "
                    + model.slug() + " " + candidate.version() + " in place of " + current.version(), verdict.failures()));
        });
    }

    /** Audits an override that let a failing verdict through (nothing when every gate passed). */
    Future<Void> recordOverride(SqlClient tx, Actor actor, CatalogModel model, String change, ModelVersion current,
                                ModelVersion candidate, PublishGuard.Verdict verdict, Optional<GateOverride> override) {
        if (verdict.passed() || override.isEmpty()) {
            return Future.succeededFuture();
        }
        return audit.record(tx, model.tenantId(), actor, "gate.override", "model_version", candidate.id(), new JsonObject()
                .put("model", model.slug()).put("change", change).put("version", candidate.version())
                .put("current", current.version()).put("reason", override.get().reason())
                .put("failures", new JsonArray(verdict.failures().stream().map(JsonObject::new).toList())));
    }
}
