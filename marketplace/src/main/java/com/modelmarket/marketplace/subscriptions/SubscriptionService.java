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
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Subscriptions of the caller's tenant: owners and admins subscribe to one plan of a model,
 * change plan or cancel. Each plan period is kept as a segment, which billing prorates.
 */
public final class SubscriptionService {

    private final Pool pool;
    private final CatalogService catalog;
    private final PlanService plans;
    private final AuditLog audit;
    private final CatalogChanges changes;

    public SubscriptionService(Pool pool, CatalogService catalog, PlanService plans, AuditLog audit, CatalogChanges changes) {
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
                            return tx.preparedQuery("INSERT INTO subscriptions (tenant_id, model_id, plan_id, status, created_by) "
                                            + "VALUES ($1, $2, $3, 'active', $4) RETURNING id, started_at")
                                    .execute(Tuple.of(p.tenantId(), model.id(), planId, p.userId()))
                                    .compose(rows -> {
                                        var row = rows.iterator().next();
                                        UUID id = row.getUUID("id");
                                        return openSegment(tx, id, p.tenantId(), planId)
                                                .compose(v -> audit.record(tx, p.tenantId(), actor, "subscription.create",
                                                        "subscription", id, new JsonObject().put("model", model.slug())
                                                                .put("plan", plan.get().name())))
                                                .compose(v -> find(tx, p.tenantId(), id));
                                    });
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
                    return closeSegment(tx, subscriptionId)
                            .compose(v -> openSegment(tx, subscriptionId, p.tenantId(), planId))
                            .compose(v -> tx.preparedQuery("UPDATE subscriptions SET plan_id = $3 WHERE tenant_id = $1 AND id = $2")
                                    .execute(Tuple.of(p.tenantId(), subscriptionId, planId)))
                            .compose(v -> audit.record(tx, p.tenantId(), actor, "subscription.change", "subscription",
                                    subscriptionId, new JsonObject().put("from", sub.planName()).put("to", plan.get().name())))
                            .compose(v -> find(tx, p.tenantId(), subscriptionId));
                })));
    }

    public Future<Subscription> cancel(Actor actor, UUID subscriptionId) {
        Principal p = requireManager(actor);
        return changes.inTransaction(pool, p.tenantId(), tx -> active(tx, p.tenantId(), subscriptionId).compose(sub -> closeSegment(tx, subscriptionId)
                .compose(v -> tx.preparedQuery("UPDATE subscriptions SET status = 'cancelled', ended_at = now() "
                                + "WHERE tenant_id = $1 AND id = $2")
                        .execute(Tuple.of(p.tenantId(), subscriptionId)))
                .compose(v -> audit.record(tx, p.tenantId(), actor, "subscription.cancel", "subscription", subscriptionId,
                        new JsonObject().put("model", sub.modelSlug())))
                .compose(v -> find(tx, p.tenantId(), subscriptionId))));
    }

    public Future<List<Subscription>> list(Principal caller) {
        return TenantScope.tenant(pool, caller.tenantId(), c -> c
                .preparedQuery(Subscription.SELECT + "WHERE s.tenant_id = $1 ORDER BY s.started_at DESC, s.id")
                .execute(Tuple.of(caller.tenantId()))
                .map(rows -> {
                    List<Subscription> out = new ArrayList<>();
                    rows.forEach(r -> out.add(Subscription.from(r)));
                    return out;
                }));
    }

    public Future<Subscription> get(Principal caller, UUID id) {
        return TenantScope.tenant(pool, caller.tenantId(), c -> find(c, caller.tenantId(), id));
    }

    /** An active subscription and its plan: what entitles a tenant to call a model. */
    public record Entitlement(UUID subscriptionId, Plan plan) {
    }

    /** The tenant's active subscription to a model, with its plan (for entitlement checks). */
    public Future<Optional<Entitlement>> entitlement(UUID tenantId, UUID modelId) {
        return TenantScope.tenant(pool, tenantId, c -> c.preparedQuery("SELECT s.id AS subscription_id, p.id, p.model_id, p.tenant_id, p.name, p.type, p.currency, p.monthly_fee_minor, "
                        + "p.included_calls, p.price_per_1000_minor, p.rate_limit_per_minute, p.created_at, p.archived_at "
                        + "FROM subscriptions s JOIN plans p ON p.id = s.plan_id "
                        + "WHERE s.tenant_id = $1 AND s.model_id = $2 AND s.status = 'active'")
                .execute(Tuple.of(tenantId, modelId))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return Optional.empty();
                    }
                    var row = rows.iterator().next();
                    return Optional.of(new Entitlement(row.getUUID("subscription_id"), planFrom(row)));
                }));
    }

    private static Plan planFrom(io.vertx.sqlclient.Row r) {
        return new Plan(r.getUUID("id"), r.getUUID("model_id"), r.getUUID("tenant_id"), r.getString("name"),
                r.getString("type"), r.getString("currency"), r.getLong("monthly_fee_minor"), r.getLong("included_calls"),
                r.getLong("price_per_1000_minor"), r.getInteger("rate_limit_per_minute"),
                r.getOffsetDateTime("created_at"), r.getOffsetDateTime("archived_at"));
    }

    private Future<Subscription> active(SqlClient tx, UUID tenantId, UUID id) {
        return tx.preparedQuery(Subscription.SELECT + "WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE OF s")
                .execute(Tuple.of(tenantId, id))
                .compose(rows -> {
                    if (rows.size() == 0) {
                        return Future.failedFuture(new NotFoundException("Subscription"));
                    }
                    Subscription sub = Subscription.from(rows.iterator().next());
                    return "active".equals(sub.status()) ? Future.succeededFuture(sub)
                            : Future.failedFuture(new ConflictException("The subscription is already cancelled"));
                });
    }

    private Future<Subscription> find(SqlClient client, UUID tenantId, UUID id) {
        return client.preparedQuery(Subscription.SELECT + "WHERE s.tenant_id = $1 AND s.id = $2")
                .execute(Tuple.of(tenantId, id))
                .compose(rows -> rows.size() == 0 ? Future.failedFuture(new NotFoundException("Subscription"))
                        : Future.succeededFuture(Subscription.from(rows.iterator().next())));
    }

    private static Future<Void> openSegment(SqlClient tx, UUID subscriptionId, UUID tenantId, UUID planId) {
        return tx.preparedQuery("INSERT INTO subscription_segments (subscription_id, tenant_id, plan_id, active_from) "
                        + "VALUES ($1, $2, $3, now())")
                .execute(Tuple.of(subscriptionId, tenantId, planId)).mapEmpty();
    }

    private static Future<Void> closeSegment(SqlClient tx, UUID subscriptionId) {
        return tx.preparedQuery("UPDATE subscription_segments SET active_to = now() WHERE subscription_id = $1 AND active_to IS NULL")
                .execute(Tuple.of(subscriptionId)).mapEmpty();
    }

    private static Principal requireManager(Actor actor) {
        if (!actor.principal().role().canManageTenant()) {
            throw new ForbiddenException("Only owners and admins manage subscriptions");
        }
        return actor.principal();
    }
}
