package com.modelmarket.marketplace.subscriptions;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.catalog.CatalogChanges;
import com.modelmarket.marketplace.catalog.CatalogService;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.ConflictException;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.marketplace.plans.Plan;
import com.modelmarket.marketplace.plans.PlanService;
import com.modelmarket.marketplace.metering.UsageBuckets;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Subscriptions of the caller's tenant: owners and admins subscribe to one plan of a model,
 * change plan or cancel. Each plan period is kept as a segment, which billing prorates.
 */
public final class SubscriptionService {

    private final Pool pool;
    private final SubscriptionRepository repository;
    private final CatalogService catalog;
    private final PlanService plans;
    private final AuditLog audit;
    private final CatalogChanges changes;

    public SubscriptionService(Pool pool, CatalogService catalog, PlanService plans, AuditLog audit, CatalogChanges changes,
                               UsageBuckets buckets) {
        this.repository = new SubscriptionRepository(buckets);
        this.changes = changes;
        this.pool = pool;
        this.catalog = catalog;
        this.plans = plans;
        this.audit = audit;
    }

    public Future<Subscription> subscribe(Actor actor, String modelIdOrSlug, UUID planId) {
        Principal p = requireManager(actor);
        return catalog.visible(p.tenantId(), modelIdOrSlug).compose(model -> changes.inTransaction(pool, p.tenantId(), tx ->
                        plans.livePlan(tx, model.id(), planId).compose(plan -> {
                            if (plan.isEmpty()) {
                                return Future.failedFuture(new InvalidFieldException("/planId", "this model has no such plan"));
                            }
                            return repository.insert(tx, p.tenantId(), model.id(), planId, p.userId())
                                    .compose(id -> repository.openSegment(tx, id, p.tenantId(), planId)
                                            .compose(v -> audit.record(tx, p.tenantId(), actor, "subscription.create",
                                                    "subscription", id, new JsonObject().put("model", model.slug())
                                                            .put("plan", plan.get().name())))
                                            .compose(v -> find(tx, p.tenantId(), id)));
                        })))
                .recover(err -> err instanceof PgException pg && "23505".equals(pg.getSqlState())
                        ? Future.failedFuture(new ConflictException("The organisation already subscribes to this model; change its plan instead"))
                        : Future.failedFuture(err));
    }

    public Future<Subscription> changePlan(Actor actor, UUID subscriptionId, UUID planId) {
        Principal p = requireManager(actor);
        return changes.inTransaction(pool, p.tenantId(), tx -> active(tx, p.tenantId(), subscriptionId).compose(sub ->
                plans.livePlan(tx, sub.modelId(), planId).compose(plan -> {
                    if (plan.isEmpty()) {
                        return Future.failedFuture(new InvalidFieldException("/planId", "this model has no such plan"));
                    }
                    if (sub.planId().equals(planId)) {
                        return Future.succeededFuture(sub);
                    }
                    return repository.closeSegment(tx, subscriptionId, false)
                            .compose(v -> repository.openSegment(tx, subscriptionId, p.tenantId(), planId))
                            .compose(v -> repository.changePlan(tx, p.tenantId(), subscriptionId, planId))
                            .compose(v -> audit.record(tx, p.tenantId(), actor, "subscription.change", "subscription",
                                    subscriptionId, new JsonObject().put("from", sub.planName()).put("to", plan.get().name())))
                            .compose(v -> find(tx, p.tenantId(), subscriptionId));
                })));
    }

    public Future<Subscription> cancel(Actor actor, UUID subscriptionId) {
        Principal p = requireManager(actor);
        return changes.inTransaction(pool, p.tenantId(), tx -> active(tx, p.tenantId(), subscriptionId)
                .compose(sub -> repository.closeSegment(tx, subscriptionId, true)
                        .compose(v -> repository.cancel(tx, p.tenantId(), subscriptionId))
                        .compose(v -> audit.record(tx, p.tenantId(), actor, "subscription.cancel", "subscription", subscriptionId,
                                new JsonObject().put("model", sub.modelSlug())))
                        .compose(v -> find(tx, p.tenantId(), subscriptionId))));
    }

    public Future<List<Subscription>> list(Principal caller) {
        return TenantScope.tenant(pool, caller.tenantId(), c -> repository.list(c, caller.tenantId()));
    }

    public Future<Subscription> get(Principal caller, UUID id) {
        return TenantScope.tenant(pool, caller.tenantId(), c -> find(c, caller.tenantId(), id));
    }

    /** An active subscription and its plan: what entitles a tenant to call a model. */
    public record Entitlement(UUID subscriptionId, Plan plan) {
    }

    /** The tenant's active subscription to a model, with its plan (for entitlement checks). */
    public Future<Optional<Entitlement>> entitlement(UUID tenantId, UUID modelId) {
        return TenantScope.tenant(pool, tenantId, c -> repository.entitlement(c, tenantId, modelId));
    }

    private Future<Subscription> active(SqlClient tx, UUID tenantId, UUID id) {
        return repository.findForUpdate(tx, tenantId, id).compose(found -> {
            if (found.isEmpty()) {
                return Future.failedFuture(new NotFoundException("Subscription"));
            }
            Subscription sub = found.get();
            return sub.status() == SubscriptionStatus.ACTIVE ? Future.succeededFuture(sub)
                    : Future.failedFuture(new ConflictException("The subscription is already cancelled"));
        });
    }

    private Future<Subscription> find(SqlClient client, UUID tenantId, UUID id) {
        return repository.find(client, tenantId, id).compose(found -> found.map(Future::succeededFuture)
                .orElseGet(() -> Future.failedFuture(new NotFoundException("Subscription"))));
    }

    private static Principal requireManager(Actor actor) {
        if (!actor.principal().role().canManageTenant()) {
            throw new ForbiddenException("Only owners and admins manage subscriptions");
        }
        return actor.principal();
    }
}
