package com.modelmarket.marketplace.invoicing;

import com.modelmarket.billing.Money;
import com.modelmarket.billing.PlanType;
import com.modelmarket.billing.PricePlan;
import com.modelmarket.billing.TrainingPrice;
import com.modelmarket.billing.rating.BillingPeriod;
import com.modelmarket.billing.rating.Invoice;
import com.modelmarket.billing.rating.InvoiceLine;
import com.modelmarket.billing.rating.Rater;
import com.modelmarket.billing.rating.SubscriptionSegment;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/** SQL for rating input (plan segments and billable calls) and for final invoices. */
final class InvoiceRepository {

    /** A period's rating input: the segments active in it and their billable calls. */
    record RatingInput(List<SubscriptionSegment> segments, Map<SubscriptionSegment, Long> calls,
                       Map<SubscriptionSegment, Rater.TrainingUsage> training) {
    }

    private static final String SEGMENTS = "SELECT g.id AS segment_id, g.subscription_id, g.tenant_id, g.active_from, g.active_to, "
            + "p.id AS plan_id, p.model_id, m.tenant_id AS publisher_id, p.type, p.currency, p.monthly_fee_minor, "
            + "p.included_calls, p.price_per_1000_minor, p.rate_limit_per_minute, p.training_per_job_minor, "
            + "p.training_per_minute_minor, p.training_included_minutes, "
            + "(SELECT count(*) FROM training_usage t WHERE t.subscription_id = g.subscription_id "
            + "  AND t.occurred_at >= greatest(g.active_from, $1) AND t.occurred_at < least(coalesce(g.active_to, 'infinity'), $2)) AS jobs, "
            + "(SELECT coalesce(sum(t.compute_millis), 0)::bigint FROM training_usage t WHERE t.subscription_id = g.subscription_id "
            + "  AND t.occurred_at >= greatest(g.active_from, $1) AND t.occurred_at < least(coalesce(g.active_to, 'infinity'), $2)) AS training_millis, "
            + "uc.calls "
            + "FROM subscription_segments g JOIN plans p ON p.id = g.plan_id JOIN models m ON m.id = p.model_id "
            + "CROSS JOIN LATERAL mm_usage_calls(g.subscription_id, 'success', greatest(g.active_from, $1), "
            + " least(coalesce(g.active_to, 'infinity'), $2)) uc "
            + "WHERE g.active_from < $2 AND (g.active_to IS NULL OR g.active_to > $1) AND (g.active_to IS NULL OR g.active_to > g.active_from) ";

    /**
     * The segments of every tenant (a close), of one tenant ($3, a draft) or of one publisher's models
     * ($3, its earnings). A publisher's are found from its plans (a materialised list, so the plan starts
     * there: under the policies PostgreSQL estimates a few hundred segments in all and would scan them
     * all, 54,000 at scale, before filtering by publisher).
     */
    private static String segments(UUID tenantOrNull, UUID publisherOrNull) {
        if (tenantOrNull != null) {
            return SEGMENTS + "AND g.tenant_id = $3";
        }
        if (publisherOrNull != null) {
            return "WITH publisher_plans AS MATERIALIZED (SELECT pp.id FROM models pm JOIN plans pp ON pp.model_id = pm.id "
                    + "WHERE pm.tenant_id = $3) " + SEGMENTS.replace("FROM subscription_segments g JOIN plans p",
                            "FROM publisher_plans pl JOIN subscription_segments g ON g.plan_id = pl.id JOIN plans p")
                    + "AND m.tenant_id = $3";
        }
        return SEGMENTS;
    }

    Future<RatingInput> ratingInput(SqlClient client, BillingPeriod period, UUID tenantOrNull) {
        return ratingInput(client, period, tenantOrNull, null);
    }

    /**
     * As {@link #ratingInput(SqlClient, BillingPeriod, UUID)}, only the segments of plans of {@code
     * publisherOrNull}'s models when given: a publisher's draft earnings (each line is rated from its own
     * segment alone, so leaving the other publishers' segments out changes none of its lines).
     */
    Future<RatingInput> ratingInput(SqlClient client, BillingPeriod period, UUID tenantOrNull, UUID publisherOrNull) {
        if (tenantOrNull != null && publisherOrNull != null) {
            throw new IllegalArgumentException("a tenant's or a publisher's segments, not both");
        }
        Tuple args = tenantOrNull != null || publisherOrNull != null
                ? Tuple.of(odt(period.start()), odt(period.end()), tenantOrNull != null ? tenantOrNull : publisherOrNull)
                : Tuple.of(odt(period.start()), odt(period.end()));
        return client.preparedQuery(segments(tenantOrNull, publisherOrNull)).execute(args)
                .map(rows -> {
            List<SubscriptionSegment> segments = new ArrayList<>();
            Map<SubscriptionSegment, Long> calls = new HashMap<>();
            Map<SubscriptionSegment, Rater.TrainingUsage> training = new HashMap<>();
            for (Row r : rows) {
                PricePlan plan = new PricePlan(r.getUUID("plan_id"), r.getUUID("model_id"), r.getUUID("publisher_id"),
                        PlanType.valueOf(r.getString("type").toUpperCase(Locale.ROOT)), r.getString("currency"),
                        r.getLong("monthly_fee_minor"), r.getLong("included_calls"), r.getLong("price_per_1000_minor"),
                        r.getInteger("rate_limit_per_minute"), new TrainingPrice(r.getLong("training_per_job_minor"),
                                r.getLong("training_per_minute_minor"), r.getLong("training_included_minutes")));
                OffsetDateTime to = r.getOffsetDateTime("active_to");
                SubscriptionSegment s = new SubscriptionSegment(r.getUUID("subscription_id"), r.getUUID("tenant_id"), plan,
                        r.getOffsetDateTime("active_from").toInstant(), to == null ? null : to.toInstant());
                segments.add(s);
                calls.merge(s, r.getLong("calls"), Long::sum);
                if (r.getLong("jobs") > 0) {
                    training.put(s, new Rater.TrainingUsage(r.getLong("jobs"), r.getLong("training_millis")));
                }
            }
            return new RatingInput(segments, calls, training);
        });
    }

    /** Marks a period closed; false when it already was (nothing else to do then). */
    /** Serialises closing periods across nodes for the rest of the transaction. */
    Future<Void> lockClosing(SqlClient tx, long lockId) {
        return tx.preparedQuery("SELECT pg_advisory_xact_lock($1)").execute(Tuple.of(lockId)).mapEmpty();
    }

    Future<Boolean> markClosed(SqlClient tx, BillingPeriod period) {
        return tx.preparedQuery("INSERT INTO billing_periods (period_start, period_end) VALUES ($1, $2) "
                        + "ON CONFLICT (period_start) DO NOTHING RETURNING period_start")
                .execute(Tuple.of(odt(period.start()), odt(period.end())))
                .map(rows -> rows.rowCount() == 1);
    }

    Future<Boolean> isClosed(SqlClient client, BillingPeriod period) {
        return client.preparedQuery("SELECT 1 FROM billing_periods WHERE period_start = $1")
                .execute(Tuple.of(odt(period.start()))).map(rows -> rows.size() > 0);
    }

    /** How many invoices (and separately, lines) go to the server in one pipelined batch. */
    private static final int BATCH = 2_000;

    /** Invoice and line rows ready to insert (built off the event loop: a close has one per tenant). */
    record InvoiceRows(List<Tuple> heads, List<Tuple> lines) {
    }

    /** The rows of final invoices and their lines, each invoice under a new id. */
    static InvoiceRows rows(List<Invoice> invoices) {
        List<Tuple> heads = new ArrayList<>();
        List<Tuple> lines = new ArrayList<>();
        for (Invoice invoice : invoices) {
            UUID id = UUID.randomUUID();
            heads.add(Tuple.of(id, invoice.tenantId(), odt(invoice.period().start()), odt(invoice.period().end()),
                    invoice.currency(), invoice.total().minorUnits()));
            int n = 0;
            for (InvoiceLine l : invoice.lines()) {
                lines.add(Tuple.from(new Object[] {id, ++n, l.subscriptionId(), l.planId(), l.modelId(),
                        l.publisherTenantId(), l.kind().name().toLowerCase(Locale.ROOT), l.description(),
                        odt(l.activeFrom()), odt(l.activeTo()), l.activeDays(), l.periodDays(), l.calls(),
                        l.includedCalls(), l.quantity(), l.unitPricePer1000().minorUnits(), l.fee().minorUnits(),
                        l.usageAmount().minorUnits(), l.amount().minorUnits(), l.training().jobs(),
                        l.training().computeMillis(), l.training().amount().minorUnits()}));
            }
        }
        return new InvoiceRows(heads, lines);
    }

    /**
     * Writes final invoices and their lines: a pipelined batch of invoice rows, then of line rows, not
     * two round trips per invoice (a period close writes one invoice per tenant and currency: 20,000
     * tenants are 20,000 invoices). Each invoice's number is the tenant's next: the executions of a
     * batch run one after the other in the transaction, so a tenant's second invoice sees its first.
     */
    Future<Void> insertAll(SqlClient tx, InvoiceRows rows) {
        return batches(tx, INSERT_INVOICE, rows.heads()).compose(v -> batches(tx, INSERT_LINE, rows.lines()));
    }

    private static final String INSERT_INVOICE = "INSERT INTO invoices (id, tenant_id, number, period_start, period_end, currency, total_minor) "
            + "VALUES ($1, $2, (SELECT coalesce(max(number), 0) + 1 FROM invoices WHERE tenant_id = $2), $3, $4, $5, $6)";
    private static final String INSERT_LINE = "INSERT INTO invoice_lines (invoice_id, line_no, subscription_id, plan_id, model_id, "
            + "publisher_tenant_id, kind, description, active_from, active_to, active_days, period_days, "
            + "calls, included_calls, quantity, unit_price_per_1000_minor, fee_minor, usage_minor, amount_minor, "
            + "training_jobs, training_compute_millis, training_minor) "
            + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)";

    private static Future<Void> batches(SqlClient tx, String sql, List<Tuple> rows) {
        Future<Void> chain = Future.succeededFuture();
        for (int from = 0; from < rows.size(); from += BATCH) {
            List<Tuple> part = rows.subList(from, Math.min(rows.size(), from + BATCH));
            chain = chain.compose(v -> tx.preparedQuery(sql).executeBatch(part).mapEmpty());
        }
        return chain;
    }

    private static final String INVOICE = "SELECT i.id, i.number, i.period_start, i.period_end, i.currency, i.total_minor, "
            + "coalesce(json_agg(json_build_object('lineNo', l.line_no, 'description', l.description, 'kind', l.kind, "
            + "'modelId', l.model_id, 'model', m.slug, 'subscriptionId', l.subscription_id, 'activeDays', l.active_days, "
            + "'periodDays', l.period_days, 'calls', l.calls, 'includedCalls', l.included_calls, 'quantity', l.quantity, "
            + "'unitPricePer1000Minor', l.unit_price_per_1000_minor, 'feeMinor', l.fee_minor, 'usageMinor', l.usage_minor, "
            + "'trainingJobs', l.training_jobs, 'trainingComputeMillis', l.training_compute_millis, 'trainingMinor', l.training_minor, "
            + "'amountMinor', l.amount_minor) ORDER BY l.line_no) FILTER (WHERE l.line_no IS NOT NULL), '[]') AS lines "
            + "FROM invoices i LEFT JOIN invoice_lines l ON l.invoice_id = i.id LEFT JOIN models m ON m.id = l.model_id "
            + "WHERE i.tenant_id = $1 ";

    Future<List<JsonObject>> list(SqlClient client, UUID tenantId) {
        return client.preparedQuery(INVOICE + "GROUP BY i.id ORDER BY i.number DESC").execute(Tuple.of(tenantId))
                .map(rows -> {
                    List<JsonObject> out = new ArrayList<>();
                    rows.forEach(r -> out.add(finalInvoice(r)));
                    return out;
                });
    }

    Future<List<JsonObject>> find(SqlClient client, UUID tenantId, UUID id) {
        return client.preparedQuery(INVOICE + "AND i.id = $2 GROUP BY i.id").execute(Tuple.of(tenantId, id))
                .map(rows -> {
                    List<JsonObject> out = new ArrayList<>();
                    rows.forEach(r -> out.add(finalInvoice(r)));
                    return out;
                });
    }

    /** Gross per model and currency of a publisher's models on the final invoices of a period. */
    Future<Map<String, Money>> grossByModel(SqlClient client, UUID publisherId, BillingPeriod period) {
        return client.preparedQuery("SELECT l.model_id, i.currency, sum(l.amount_minor) AS gross FROM invoice_lines l "
                        + "JOIN invoices i ON i.id = l.invoice_id WHERE l.publisher_tenant_id = $1 AND i.period_start = $2 "
                        + "GROUP BY l.model_id, i.currency")
                .execute(Tuple.of(publisherId, odt(period.start())))
                .map(rows -> {
                    Map<String, Money> out = new HashMap<>();
                    rows.forEach(r -> out.put(r.getUUID("model_id") + "/" + r.getString("currency"),
                            new Money(r.getLong("gross"), r.getString("currency"))));
                    return out;
                });
    }

    private static JsonObject finalInvoice(Row r) {
        Object lines = r.getValue("lines");
        return new JsonObject()
                .put("id", r.getUUID("id").toString())
                .put("number", r.getInteger("number"))
                .put("status", "final")
                .put("period", new JsonObject().put("start", r.getOffsetDateTime("period_start").toInstant().toString())
                        .put("end", r.getOffsetDateTime("period_end").toInstant().toString()))
                .put("currency", r.getString("currency"))
                .put("totalMinor", r.getLong("total_minor"))
                .put("lines", lines instanceof JsonArray a ? a : new JsonArray(String.valueOf(lines)));
    }

    static OffsetDateTime odt(java.time.Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
