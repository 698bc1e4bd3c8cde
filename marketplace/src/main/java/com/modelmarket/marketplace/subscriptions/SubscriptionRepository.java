package com.modelmarket.marketplace.subscriptions;

import com.modelmarket.marketplace.plans.Plan;
import com.modelmarket.marketplace.metering.UsageBuckets;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The {@code subscriptions} and {@code subscription_segments} tables. Every statement runs on a
 * client the caller scoped to the tenant (row-level security) and filters by the tenant id too.
 */
final class SubscriptionRepository {

    private final UsageBuckets buckets;

    SubscriptionRepository(UsageBuckets buckets) {
        this.buckets = buckets;
    }

    private static final String SELECT = "SELECT s.id, s.tenant_id, s.model_id, m.slug AS model_slug, s.plan_id, p.name AS plan_name, "
            + "p.type AS plan_type, s.status, s.started_at, s.ended_at FROM subscriptions s "
            + "JOIN models m ON m.id = s.model_id JOIN plans p ON p.id = s.plan_id ";

    /** A new active subscription; its id. */
    Future<UUID> insert(SqlClient tx, UUID tenantId, UUID modelId, UUID planId, UUID createdBy) {
        return tx.preparedQuery("INSERT INTO subscriptions (tenant_id, model_id, plan_id, status, created_by) "
                        + "VALUES ($1, $2, $3, 'active', $4) RETURNING id, started_at")
                .execute(Tuple.of(tenantId, modelId, planId, createdBy))
                .map(rows -> rows.iterator().next().getUUID("id"));
    }

    Future<Void> changePlan(SqlClient tx, UUID tenantId, UUID subscriptionId, UUID planId) {
        return tx.preparedQuery("UPDATE subscriptions SET plan_id = $3 WHERE tenant_id = $1 AND id = $2")
                .execute(Tuple.of(tenantId, subscriptionId, planId)).mapEmpty();
    }

    Future<Void> cancel(SqlClient tx, UUID tenantId, UUID subscriptionId) {
        return tx.preparedQuery("UPDATE subscriptions SET status = 'cancelled', ended_at = now() "
                        + "WHERE tenant_id = $1 AND id = $2")
                .execute(Tuple.of(tenantId, subscriptionId)).mapEmpty();
    }

    Future<List<Subscription>> list(SqlClient client, UUID tenantId) {
        return client.preparedQuery(SELECT + "WHERE s.tenant_id = $1 ORDER BY s.started_at DESC, s.id")
                .execute(Tuple.of(tenantId))
                .map(rows -> {
                    List<Subscription> out = new ArrayList<>();
                    rows.forEach(r -> out.add(from(r)));
                    return out;
                });
    }

    Future<Optional<Subscription>> find(SqlClient client, UUID tenantId, UUID id) {
        return client.preparedQuery(SELECT + "WHERE s.tenant_id = $1 AND s.id = $2")
                .execute(Tuple.of(tenantId, id))
                .map(SubscriptionRepository::first);
    }

    /** The subscription, locked for the rest of the transaction. */
    Future<Optional<Subscription>> findForUpdate(SqlClient tx, UUID tenantId, UUID id) {
        return tx.preparedQuery(SELECT + "WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE OF s")
                .execute(Tuple.of(tenantId, id))
                .map(SubscriptionRepository::first);
    }

    /** The tenant's active subscription to a model, with its plan. */
    Future<Optional<SubscriptionService.Entitlement>> entitlement(SqlClient client, UUID tenantId, UUID modelId) {
        return client.preparedQuery("SELECT s.id AS subscription_id, " + Plan.COLUMNS + " "
                        + "FROM subscriptions s JOIN plans p ON p.id = s.plan_id "
                        + "WHERE s.tenant_id = $1 AND s.model_id = $2 AND s.status = 'active'")
                .execute(Tuple.of(tenantId, modelId))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return Optional.empty();
                    }
                    Row row = rows.iterator().next();
                    return Optional.of(new SubscriptionService.Entitlement(row.getUUID("subscription_id"), planFrom(row)));
                });
    }

    /**
     * Starts the segment of the subscription's time on {@code planId}, which billing prorates. Segments
     * begin and end on boundaries of the usage rollups' buckets ({@link UsageBuckets}), so that the
     * calls of a segment are summed exactly: a start rounds down to its bucket.
     */
    Future<Void> openSegment(SqlClient tx, UUID subscriptionId, UUID tenantId, UUID planId) {
        return tx.preparedQuery("INSERT INTO subscription_segments (subscription_id, tenant_id, plan_id, active_from) "
                        + "VALUES ($1, $2, $3, " + buckets.floorSql("now()") + ")")
                .execute(Tuple.of(subscriptionId, tenantId, planId)).mapEmpty();
    }

    /**
     * Ends the open segment: where the next segment starts when the plan changes (so the bucket of a
     * change is billed on the new plan), or at the end of the current bucket when the subscription
     * ends (no call after it is let through, so none is billed).
     */
    Future<Void> closeSegment(SqlClient tx, UUID subscriptionId, boolean subscriptionEnds) {
        return tx.preparedQuery("UPDATE subscription_segments SET active_to = " + (subscriptionEnds ? buckets.ceilSql("now()") : buckets.floorSql("now()"))
                        + " WHERE subscription_id = $1 AND active_to IS NULL")
                .execute(Tuple.of(subscriptionId)).mapEmpty();
    }


    private static Optional<Subscription> first(RowSet<Row> rows) {
        return rows.size() == 0 ? Optional.empty() : Optional.of(from(rows.iterator().next()));
    }

    private static Subscription from(Row r) {
        return new Subscription(r.getUUID("id"), r.getUUID("tenant_id"), r.getUUID("model_id"), r.getString("model_slug"),
                r.getUUID("plan_id"), r.getString("plan_name"), r.getString("plan_type"),
                SubscriptionStatus.fromDb(r.getString("status")), r.getOffsetDateTime("started_at"), r.getOffsetDateTime("ended_at"));
    }

    private static Plan planFrom(Row r) {
        return Plan.from(r);
    }
}
