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
        List<Object> params = new ArrayList<>();
        params.add(callerTenant);
        params.add(q.text().orElse(null));
        // A text query is matched by mm_catalog_matches (migration V17: the GIN index, the caller's
        // visibility and the rank); the policy on models still applies to the rows joined on its answer.
        boolean text = q.text().isPresent();
        StringBuilder where = new StringBuilder(CatalogRepository.VISIBLE).append(text ? "" : " AND $2::text IS NULL");
        filter(where, params, q.task(), "m.task = $");
        filter(where, params, q.tag(), "$%::text = ANY(m.tags)");
        filter(where, params, q.publisher(), "m.tenant_id = (SELECT pt.id FROM tenants pt WHERE pt.slug = $)");
        filter(where, params, q.framework(), "m.framework = $");
        filter(where, params, q.kind(), "m.kind = $");
        filter(where, params, q.priceType(),
                "EXISTS (SELECT 1 FROM plans p WHERE p.model_id = m.id AND p.archived_at IS NULL AND p.type = $)");

        String key = sort.startsWith("metric:") ? "x.metric_key" : switch (sort) {
            case "relevance" -> "x.rank";
            case "popular" -> "x.subscribers";
            default -> "x.created_at";
        };
        // issue 18: the platform's latest measurement of the latest version (platform_measurements)
        String metric = sort.startsWith("metric:") ? sort.substring("metric:".length()) : "accuracy";
        params.add(metric);
        int metricParam = params.size();
        String sign = SearchService.LOWER_IS_BETTER.contains(metric) ? "-" : "";
        StringBuilder outer = new StringBuilder(sort.startsWith("metric:") ? " WHERE x.metric_key IS NOT NULL" : " WHERE true");
        if (q.metricAtLeast().isPresent()) {
            // "no worse than": the key is the metric, or minus it where lower is better
            params.add(sign.isEmpty() ? q.metricAtLeast().get() : -q.metricAtLeast().get());
            outer.append(" AND x.metric_key >= $").append(params.size());
        }
        String after = "";
        if (afterId != null) {
            params.add(afterKey);
            int k = params.size();
            params.add(afterId);
            int i = params.size();
            // a row comparison, so that the index of the order (V2 newest, V17 popular) starts at the cursor
            outer.append(" AND (").append(key).append(", x.id) < ($").append(k).append(", $").append(i).append(")");
            after = " WHERE (f0.rank, f0.id) < ($" + k + ", $" + i + ")";
        }
        params.add(limit + 1);
        // In relevance order with no other filter the page is the best matches after the cursor, so only
        // they are joined to models (a broad term matches thousands); the function already applied the
        // visibility rule, which the join (VISIBLE and the policy) checks again.
        boolean unfiltered = q.task().isEmpty() && q.tag().isEmpty() && q.publisher().isEmpty() && q.framework().isEmpty()
                && q.kind().isEmpty() && q.priceType().isEmpty();
        String matches = text && "relevance".equals(sort) && unfiltered
                ? "(SELECT f0.id, f0.rank FROM mm_catalog_matches($2::text) f0" + after
                        + " ORDER BY f0.rank DESC, f0.id DESC LIMIT $" + params.size() + ") f"
                : "mm_catalog_matches($2::text) f";
        String sql = "SELECT * FROM (SELECT " + sign + "(measured ->> $" + metricParam + "::text)::float8 AS metric_key, * FROM (SELECT m.id, m.kind, m.slug, m.name, m.summary, m.task, m.tags, m.framework, "
                + "m.visibility, m.created_at, t.slug AS publisher_slug, t.name AS publisher_name, "
                + (text ? "f.rank, " : "0::real AS rank, ")
                + "m.active_subscribers AS subscribers, "
                + "(SELECT v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id "
                + " WHERE a.model_id = m.id AND a.alias = 'latest') AS latest_version, "
                + "(SELECT array_agg(DISTINCT p.type ORDER BY p.type) FROM plans p WHERE p.model_id = m.id AND p.archived_at IS NULL) AS price_types, "
                + "(SELECT pm.metrics - 'perClass' - 'confusionMatrix' - 'labels' FROM platform_measurements pm JOIN model_aliases la ON la.model_id = m.id "
                + " AND la.alias = 'latest' AND la.version_id = pm.version_id WHERE pm.model_id = m.id "
                + " ORDER BY pm.measured_at DESC LIMIT 1) AS measured "
                + "FROM " + (text ? matches + " JOIN models m ON m.id = f.id" : "models m")
                + " JOIN tenants t ON t.id = m.tenant_id WHERE " + where + ") y) x" + outer
                + " ORDER BY " + key + " DESC, x.id DESC LIMIT $" + params.size();
        return client.preparedQuery(sql).execute(Tuple.from(params));
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
