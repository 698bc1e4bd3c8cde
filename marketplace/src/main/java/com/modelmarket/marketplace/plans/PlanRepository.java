package com.modelmarket.marketplace.plans;

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
 * The {@code plans} table. Every statement runs on a client the caller scoped to a tenant (or a
 * visitor), so row-level security applies; writes also filter by the tenant id.
 */
final class PlanRepository {

    private static final String COLUMNS = Plan.COLUMNS;

    Future<Plan> insert(SqlClient tx, UUID modelId, UUID tenantId, PlanService.PlanInput in) {
        return tx.preparedQuery("INSERT INTO plans AS p (model_id, tenant_id, name, type, currency, "
                        + "monthly_fee_minor, included_calls, price_per_1000_minor, rate_limit_per_minute, training_per_job_minor, "
                        + "training_per_minute_minor, training_included_minutes, training_max_job_seconds) "
                        + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING " + COLUMNS)
                .execute(Tuple.from(new Object[] {modelId, tenantId, in.name(), Plan.wire(in.type()), in.currency(),
                        in.monthlyFeeMinor(), in.includedCalls(), in.pricePer1000Minor(), in.rateLimitPerMinute(),
                        in.training().perJobMinor(), in.training().perMinuteMinor(), in.training().includedMinutes(),
                        in.training().maxJobSeconds()}))
                .map(rows -> from(rows.iterator().next()));
    }

    /** Archives a plan of the tenant's model named by id or slug; empty if there is none. */
    Future<Optional<Plan>> archive(SqlClient tx, UUID tenantId, UUID planId, String modelIdOrSlug) {
        return tx.preparedQuery("UPDATE plans AS p SET archived_at = COALESCE(archived_at, now()) "
                        + "FROM models m WHERE p.id = $2 AND p.tenant_id = $1 AND m.id = p.model_id "
                        + "AND (m.slug = $3 OR m.id::text = $3) RETURNING " + COLUMNS)
                .execute(Tuple.of(tenantId, planId, modelIdOrSlug))
                .map(PlanRepository::first);
    }

    /** A model's live plans, cheapest first. */
    Future<List<Plan>> live(SqlClient client, UUID modelId) {
        return client.preparedQuery("SELECT " + COLUMNS + " FROM plans p WHERE p.model_id = $1 "
                        + "AND p.archived_at IS NULL ORDER BY p.monthly_fee_minor, p.price_per_1000_minor, p.created_at")
                .execute(Tuple.of(modelId))
                .map(rows -> {
                    List<Plan> plans = new ArrayList<>();
                    rows.forEach(r -> plans.add(from(r)));
                    return plans;
                });
    }

    Future<Optional<Plan>> livePlan(SqlClient client, UUID modelId, UUID planId) {
        return client.preparedQuery("SELECT " + COLUMNS + " FROM plans p WHERE p.id = $1 AND p.model_id = $2 "
                        + "AND p.archived_at IS NULL")
                .execute(Tuple.of(planId, modelId))
                .map(PlanRepository::first);
    }

    private static Optional<Plan> first(RowSet<Row> rows) {
        return rows.size() == 0 ? Optional.empty() : Optional.of(from(rows.iterator().next()));
    }

    private static Plan from(Row r) {
        return Plan.from(r);
    }
}
