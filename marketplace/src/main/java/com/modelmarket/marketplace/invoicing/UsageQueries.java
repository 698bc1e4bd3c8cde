package com.modelmarket.marketplace.invoicing;

import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.db.TenantScope;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * Usage as tenants see it, summed from the usage rollups the meter adds into (migrations
 * V9 and V18: per bucket and per UTC day; so dashboards always equal what is billed, current within the meter's flush interval): per
 * day, model and API key; and the quota state of each subscription.
 */
public final class UsageQueries {

    private final Pool pool;

    public UsageQueries(Pool pool) {
        this.pool = pool;
    }

    /**
     * The calls metered for a tenant and model since {@code start} under a subscription (what a free
     * plan's month has used; evaluation jobs' calls carry no subscription and use no allowance).
     */
    public Future<Long> countSince(UUID tenantId, UUID modelId, Instant start) {
        // from a UTC midnight (a month's start) the daily rollups hold it all (migration V18)
        boolean midnight = start.getEpochSecond() % 86_400 == 0 && start.getNano() == 0;
        String sql = midnight
                ? "SELECT coalesce(sum(calls), 0)::bigint FROM usage_daily WHERE tenant_id = $1 AND model_id = $2 "
                        + "AND day >= ($3::timestamptz AT TIME ZONE 'UTC')::date AND subscription_id IS NOT NULL"
                : "SELECT coalesce(sum(calls), 0)::bigint FROM usage_rollups WHERE tenant_id = $1 AND model_id = $2 AND bucket >= $3 "
                        + "AND subscription_id IS NOT NULL";
        return TenantScope.tenant(pool, tenantId, c -> c
                .preparedQuery(sql)
                .execute(Tuple.of(tenantId, modelId, start.atOffset(ZoneOffset.UTC))))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    /**
     * A day's calls come from usage_daily (migration V18), except the days on which one of the
     * subscription's plan segments starts or ends at another time than midnight ({@code cut}): the plan
     * changes inside such a day, so its calls come from the bucket rollups, each bucket with the plan of
     * the segment it falls in. Both sources hold the same calls, so the figures equal a sum of the
     * bucket rows over the whole range.
     */
    private static final String SUMMARY = "WITH cut AS (SELECT DISTINCT g.subscription_id, (b.at AT TIME ZONE 'UTC')::date AS day "
            + "FROM subscription_segments g CROSS JOIN LATERAL (VALUES (g.active_from), (g.active_to)) AS b(at) "
            + "WHERE g.tenant_id = $1 AND b.at >= $2 AND b.at < $3 AND b.at <> date_trunc('day', b.at, 'UTC')), "
            + "r AS (SELECT u.day, u.model_id, u.version_id, u.api_key_id, u.outcome, u.calls, u.items, u.compute_nanos, g.plan_id "
            + "FROM usage_daily u LEFT JOIN subscription_segments g ON g.subscription_id = u.subscription_id "
            + " AND g.active_from <= (u.day::timestamp AT TIME ZONE 'UTC') "
            + " AND (g.active_to IS NULL OR g.active_to >= ((u.day + 1)::timestamp AT TIME ZONE 'UTC')) "
            + "WHERE u.tenant_id = $1 AND u.day >= ($2::timestamptz AT TIME ZONE 'UTC')::date AND u.day < ($3::timestamptz AT TIME ZONE 'UTC')::date "
            + " AND NOT EXISTS (SELECT 1 FROM cut WHERE cut.subscription_id = u.subscription_id AND cut.day = u.day) "
            + "UNION ALL SELECT (u.bucket AT TIME ZONE 'UTC')::date, u.model_id, u.version_id, u.api_key_id, u.outcome, u.calls, u.items, "
            + "u.compute_nanos, g.plan_id FROM cut JOIN usage_rollups u ON u.tenant_id = $1 AND u.subscription_id = cut.subscription_id "
            + " AND u.bucket >= (cut.day::timestamp AT TIME ZONE 'UTC') AND u.bucket < ((cut.day + 1)::timestamp AT TIME ZONE 'UTC') "
            + "LEFT JOIN subscription_segments g ON g.subscription_id = u.subscription_id "
            + " AND u.bucket >= g.active_from AND (g.active_to IS NULL OR u.bucket < g.active_to)) "
            + "SELECT r.day, r.model_id, m.slug, v.version, p.name AS plan_name, r.api_key_id, k.name AS key_name, "
            + "sum(r.calls)::bigint AS calls, coalesce(sum(r.calls) FILTER (WHERE r.outcome = 'success'), 0)::bigint AS billable, "
            + "sum(r.items)::bigint AS items, sum(r.compute_nanos)::bigint AS compute_nanos "
            + "FROM r JOIN models m ON m.id = r.model_id LEFT JOIN model_versions v ON v.id = r.version_id "
            + "LEFT JOIN api_keys k ON k.id = r.api_key_id LEFT JOIN plans p ON p.id = r.plan_id "
            + "GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 3, 4, 7";

    /** Per UTC day, model, version, plan (none for one's own models) and key, between {@code from} and {@code to} (both inclusive days). */
    public Future<JsonArray> summary(Principal caller, LocalDate from, LocalDate to) {
        Instant start = from.atStartOfDay(ZoneOffset.UTC).toInstant();
        Instant end = to.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        return TenantScope.tenant(pool, caller.tenantId(), c -> c.preparedQuery(SUMMARY)
                .execute(Tuple.of(caller.tenantId(), start.atOffset(ZoneOffset.UTC), end.atOffset(ZoneOffset.UTC))))
                .map(rows -> {
                    JsonArray items = new JsonArray();
                    for (Row r : rows) {
                        items.add(new JsonObject()
                                .put("day", r.getLocalDate("day").toString())
                                .put("modelId", r.getUUID("model_id").toString())
                                .put("model", r.getString("slug"))
                                .put("version", r.getString("version"))
                                .put("plan", r.getString("plan_name"))
                                .put("apiKeyId", r.getUUID("api_key_id") == null ? null : r.getUUID("api_key_id").toString())
                                .put("apiKey", r.getString("key_name"))
                                .put("calls", r.getLong("calls"))
                                .put("billableCalls", r.getLong("billable"))
                                .put("items", r.getLong("items"))
                                .put("computeMillis", r.getLong("compute_nanos") / 1_000_000));
                    }
                    return items;
                });
    }

    /** Training jobs metered (succeeded) per UTC day and algorithm, between {@code from} and {@code to} (inclusive days). */
    public Future<JsonArray> training(Principal caller, LocalDate from, LocalDate to) {
        Instant start = from.atStartOfDay(ZoneOffset.UTC).toInstant();
        Instant end = to.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        return TenantScope.tenant(pool, caller.tenantId(), c -> c.preparedQuery("SELECT (t.occurred_at AT TIME ZONE 'UTC')::date "
                        + "AS day, m.slug, count(*) AS jobs, sum(t.compute_millis)::bigint AS compute_millis, "
                        + "count(*) FILTER (WHERE t.subscription_id IS NOT NULL) AS billable_jobs "
                        + "FROM training_usage t JOIN models m ON m.id = t.algorithm_id WHERE t.tenant_id = $1 "
                        + "AND t.occurred_at >= $2 AND t.occurred_at < $3 GROUP BY 1, 2 ORDER BY 1, 2")
                .execute(Tuple.of(caller.tenantId(), start.atOffset(ZoneOffset.UTC), end.atOffset(ZoneOffset.UTC))))
                .map(rows -> {
                    JsonArray items = new JsonArray();
                    for (Row r : rows) {
                        items.add(new JsonObject().put("day", r.getLocalDate("day").toString()).put("algorithm", r.getString("slug"))
                                .put("jobs", r.getLong("jobs")).put("billableJobs", r.getLong("billable_jobs"))
                                .put("computeMillis", r.getLong("compute_millis")));
                    }
                    return items;
                });
    }

    /** Each active subscription's allowance this month (UTC): used, included, remaining, when it resets. */
    public Future<JsonArray> quotas(Principal caller) {
        YearMonth month = YearMonth.now(ZoneOffset.UTC);
        Instant start = month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        Instant reset = month.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        return TenantScope.tenant(pool, caller.tenantId(), c -> c.preparedQuery("SELECT s.id, m.slug, p.name, p.type, p.included_calls, p.rate_limit_per_minute, "
                        + "(SELECT coalesce(sum(u.calls), 0)::bigint FROM usage_daily u WHERE u.tenant_id = s.tenant_id "
                        + " AND u.model_id = s.model_id AND u.day >= ($2::timestamptz AT TIME ZONE 'UTC')::date "
                        + " AND u.subscription_id IS NOT NULL) AS used "
                        + "FROM subscriptions s JOIN plans p ON p.id = s.plan_id JOIN models m ON m.id = s.model_id "
                        + "WHERE s.tenant_id = $1 AND s.status = 'active' ORDER BY m.slug")
                .execute(Tuple.of(caller.tenantId(), start.atOffset(ZoneOffset.UTC))))
                .map(rows -> {
                    JsonArray items = new JsonArray();
                    for (Row r : rows) {
                        long used = r.getLong("used");
                        long included = r.getLong("included_calls");
                        boolean capped = com.modelmarket.marketplace.plans.Plan.storedType(r.getString("type")) == com.modelmarket.billing.PlanType.FREE;
                        items.add(new JsonObject()
                                .put("subscriptionId", r.getUUID("id").toString())
                                .put("model", r.getString("slug"))
                                .put("plan", r.getString("name"))
                                .put("planType", r.getString("type"))
                                .put("used", used)
                                .put("included", included)
                                .put("remaining", Math.max(0, included - used))
                                .put("hardCap", capped)
                                .put("rateLimitPerMinute", r.getInteger("rate_limit_per_minute"))
                                .put("resetAt", reset.toString()));
                    }
                    return items;
                });
    }
}
