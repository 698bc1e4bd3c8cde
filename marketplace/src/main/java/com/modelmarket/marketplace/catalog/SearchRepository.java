package com.modelmarket.marketplace.catalog;

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
 * The catalog search: one page of the model cards the caller's scope may see ({@link
 * CatalogRepository#VISIBLE}), filtered and in the sort order's key, after a cursor's position.
 */
final class SearchRepository {

    /**
     * Up to {@code limit + 1} rows (one more shows there is a next page), after ({@code afterKey},
     * {@code afterId}) in the sort order when {@code afterId} is not null.
     */
    Future<RowSet<Row>> page(SqlClient client, UUID callerTenant, SearchService.Query q, String sort, Object afterKey,
                             UUID afterId, int limit) {
        return sort.startsWith("metric:") ? byMetric(client, callerTenant, q, sort, afterKey, afterId, limit)
                : listing(client, callerTenant, q, sort, afterKey, afterId, limit);
    }

    /** The card columns of {@code m} (a models row) and its publisher {@code t}, for the outer queries. */
    private static final String CARD = "m.id, m.kind, m.slug, m.name, m.summary, m.task, m.tags, m.framework, "
            + "m.visibility, m.created_at, t.slug AS publisher_slug, t.name AS publisher_name, "
            + "m.active_subscribers AS subscribers, "
            + "(SELECT v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id "
            + " WHERE a.model_id = m.id AND a.alias = 'latest') AS latest_version, "
            + "(SELECT array_agg(DISTINCT p.type ORDER BY p.type) FROM plans p WHERE p.model_id = m.id AND p.archived_at IS NULL) AS price_types, ";

    /**
     * Relevance, newest and popular: mm_catalog_page (migration V21) cuts the page — visibility,
     * filters, the cursor and the limit applied in the narrow catalog_search table — and only the
     * page's rows are joined to models, whose policy and {@link CatalogRepository#VISIBLE} (and the
     * filters) apply to them again.
     */
    private Future<RowSet<Row>> listing(SqlClient client, UUID callerTenant, SearchService.Query q, String sort,
                                        Object afterKey, UUID afterId, int limit) {
        List<Object> params = new ArrayList<>();
        params.add(callerTenant);
        params.add(q.text().orElse(null));
        params.add(sort);
        params.add(afterId == null ? null : afterKey.toString());
        params.add(afterId);
        params.add(limit + 1);
        params.add(q.task().orElse(null));
        params.add(q.tag().orElse(null));
        params.add(q.publisher().orElse(null));
        params.add(q.framework().orElse(null));
        params.add(q.kind().orElse(null));
        params.add(q.priceType().orElse(null));
        StringBuilder where = new StringBuilder(CatalogRepository.VISIBLE);
        filters(where, params, q);
        String key = switch (sort) {
            case "relevance" -> "f.rank";
            case "popular" -> "m.active_subscribers";
            default -> "m.created_at";
        };
        String sql = "SELECT " + CARD + "f.rank, "
                + "(SELECT pm.metrics - 'perClass' - 'confusionMatrix' - 'labels' FROM platform_measurements pm JOIN model_aliases la ON la.model_id = m.id "
                + " AND la.alias = 'latest' AND la.version_id = pm.version_id WHERE pm.model_id = m.id "
                + " ORDER BY pm.measured_at DESC LIMIT 1) AS measured "
                + "FROM mm_catalog_page($2::text, $3::text, $4::text, $5::uuid, $6::int, $7::text, $8::text, $9::text, "
                + "$10::text, $11::text, $12::text) f JOIN models m ON m.id = f.id JOIN tenants t ON t.id = m.tenant_id WHERE "
                + where + " ORDER BY " + key + " DESC, m.id DESC LIMIT $6";
        return client.preparedQuery(sql).execute(Tuple.from(params));
    }

    /** sort=metric:<name>: every visible match, keyed by the platform's latest measurement. */
    private Future<RowSet<Row>> byMetric(SqlClient client, UUID callerTenant, SearchService.Query q, String sort,
                                         Object afterKey, UUID afterId, int limit) {
        List<Object> params = new ArrayList<>();
        params.add(callerTenant);
        params.add(q.text().orElse(null));
        // A text query is matched by mm_catalog_matches (migration V17: the GIN index, the caller's
        // visibility); the policy on models still applies to the rows joined on its answer.
        boolean text = q.text().isPresent();
        StringBuilder where = new StringBuilder(CatalogRepository.VISIBLE).append(text ? "" : " AND $2::text IS NULL");
        filters(where, params, q);

        // issue 18: the platform's latest measurement of the latest version (platform_measurements)
        String metric = sort.substring("metric:".length());
        params.add(metric);
        int metricParam = params.size();
        String sign = SearchService.LOWER_IS_BETTER.contains(metric) ? "-" : "";
        StringBuilder outer = new StringBuilder(" WHERE x.metric_key IS NOT NULL");
        if (q.metricAtLeast().isPresent()) {
            // "no worse than": the key is the metric, or minus it where lower is better
            params.add(sign.isEmpty() ? q.metricAtLeast().get() : -q.metricAtLeast().get());
            outer.append(" AND x.metric_key >= $").append(params.size());
        }
        if (afterId != null) {
            params.add(afterKey);
            int k = params.size();
            params.add(afterId);
            int i = params.size();
            outer.append(" AND (x.metric_key, x.id) < ($").append(k).append(", $").append(i).append(")");
        }
        params.add(limit + 1);
        String sql = "SELECT * FROM (SELECT " + sign + "(measured ->> $" + metricParam + "::text)::float8 AS metric_key, * FROM (SELECT "
                + CARD + "0::real AS rank, "
                + "(SELECT pm.metrics - 'perClass' - 'confusionMatrix' - 'labels' FROM platform_measurements pm JOIN model_aliases la ON la.model_id = m.id "
                + " AND la.alias = 'latest' AND la.version_id = pm.version_id WHERE pm.model_id = m.id "
                + " ORDER BY pm.measured_at DESC LIMIT 1) AS measured "
                + "FROM " + (text ? "mm_catalog_matches($2::text) f JOIN models m ON m.id = f.id" : "models m")
                + " JOIN tenants t ON t.id = m.tenant_id WHERE " + where + ") y) x" + outer
                + " ORDER BY x.metric_key DESC, x.id DESC LIMIT $" + params.size();
        return client.preparedQuery(sql).execute(Tuple.from(params));
    }

    /** The query's filters on {@code m}, as conditions appended to {@code where}, their values to {@code params}. */
    private static void filters(StringBuilder where, List<Object> params, SearchService.Query q) {
        filter(where, params, q.task(), "m.task = $");
        filter(where, params, q.tag(), "$%::text = ANY(m.tags)");
        filter(where, params, q.publisher(), "m.tenant_id = (SELECT pt.id FROM tenants pt WHERE pt.slug = $)");
        filter(where, params, q.framework(), "m.framework = $");
        filter(where, params, q.kind(), "m.kind = $");
        filter(where, params, q.priceType(),
                "EXISTS (SELECT 1 FROM plans p WHERE p.model_id = m.id AND p.archived_at IS NULL AND p.type = $)");
    }

    private static void filter(StringBuilder where, List<Object> params, Optional<String> value, String condition) {
        if (value.isPresent()) {
            params.add(value.get());
            String placeholder = "$" + params.size();
            where.append(" AND ").append(condition.contains("$%") ? condition.replace("$%", placeholder)
                    : condition.replace("$", placeholder));
        }
    }
}
