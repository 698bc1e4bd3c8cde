package com.modelmarket.marketplace.catalog;

import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.BadRequestException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Browse and search: PostgreSQL full-text search over name, tags, summary and description,
 * filters, three orders, and keyset pagination (a cursor holds the last row's sort key and id, so
 * rows inserted meanwhile cause neither duplicates nor gaps).
 */
public final class SearchService {

    public static final List<String> SORTS = List.of("relevance", "newest", "popular");

    /**
     * Metrics {@code sort=metric:<name>} orders by: the platform's latest measurement of each model's
     * {@code latest} version on its reference dataset (models without one are left out), best first —
     * highest for these, lowest for {@link #LOWER_IS_BETTER}.
     */
    static final List<String> MEASURED = List.of("accuracy", "macroF1", "topKAccuracy", "r2", "mae", "rmse");
    static final List<String> LOWER_IS_BETTER = List.of("mae", "rmse");

    private final Pool pool;
    private final SearchRepository repository = new SearchRepository();

    public SearchService(Pool pool) {
        this.pool = pool;
    }

    /** What a search asks for; empty optionals mean "any". */
    public record Query(Optional<String> text, Optional<String> task, Optional<String> tag, Optional<String> publisher,
                        Optional<String> priceType, Optional<String> framework, Optional<String> kind, String sort,
                        int limit, Optional<String> cursor, Optional<Double> metricAtLeast) {

        /** A query without a bound on the measured metric. */
        public Query(Optional<String> text, Optional<String> task, Optional<String> tag, Optional<String> publisher,
                     Optional<String> priceType, Optional<String> framework, Optional<String> kind, String sort,
                     int limit, Optional<String> cursor) {
            this(text, task, tag, publisher, priceType, framework, kind, sort, limit, cursor, Optional.empty());
        }
    }

    public Future<JsonObject> search(UUID callerTenant, Query q) {
        String sort = q.sort();
        if (!SORTS.contains(sort) && !(sort.startsWith("metric:") && MEASURED.contains(sort.substring("metric:".length())))) {
            throw new BadRequestException("sort must be one of " + SORTS + " or metric:<name> with a name of " + MEASURED);
        }
        if (q.metricAtLeast().isPresent() && !sort.startsWith("metric:")) {
            throw new InvalidFieldException("/minMetric", "filters by a measured metric: give sort=metric:<name> too");
        }
        if ("relevance".equals(sort) && q.text().isEmpty()) {
            sort = "newest";
        }
        String finalSort = sort;
        Optional<Cursor> after = q.cursor().map(text -> Cursor.decode(text, finalSort));
        return TenantScope.tenantOrVisitor(pool, callerTenant, c -> repository.page(c, callerTenant, q, finalSort,
                after.map(cursor -> cursor.key(finalSort)).orElse(null), after.map(Cursor::id).orElse(null), q.limit())).map(rows -> {
            JsonArray items = new JsonArray();
            Row last = null;
            int n = 0;
            for (Row r : rows) {
                if (n++ == q.limit()) {
                    break;
                }
                items.add(card(r));
                last = r;
            }
            boolean more = rows.size() > q.limit();
            return new JsonObject().put("items", items).put("sort", finalSort)
                    .put("nextCursor", more && last != null ? Cursor.of(finalSort, last).encode() : null);
        });
    }

    private static JsonObject card(Row r) {
        String[] priceTypes = r.getArrayOfStrings("price_types");
        return new JsonObject()
                .put("id", r.getUUID("id").toString())
                .put("kind", r.getString("kind"))
                .put("slug", r.getString("slug"))
                .put("name", r.getString("name"))
                .put("summary", r.getString("summary"))
                .put("task", r.getString("task"))
                .put("tags", new JsonArray(List.of(r.getArrayOfStrings("tags"))))
                .put("framework", r.getString("framework"))
                .put("visibility", r.getString("visibility"))
                .put("publisher", new JsonObject().put("slug", r.getString("publisher_slug")).put("name", r.getString("publisher_name")))
                .put("latestVersion", r.getString("latest_version"))
                .put("priceTypes", new JsonArray(priceTypes == null ? List.of() : List.of(priceTypes)))
                .put("subscribers", r.getLong("subscribers"))
                .put("createdAt", r.getOffsetDateTime("created_at").toInstant().toString())
                .put("measured", r.getValue("measured"));
    }

    /** The position after the last row of a page. */
    record Cursor(String sort, String key, UUID id) {

        static Cursor of(String sort, Row r) {
            String key = sort.startsWith("metric:") ? Double.toString(r.getDouble("metric_key")) : switch (sort) {
                case "relevance" -> Float.toString(r.getFloat("rank"));
                case "popular" -> Long.toString(r.getLong("subscribers"));
                default -> r.getOffsetDateTime("created_at").toString();
            };
            return new Cursor(sort, key, r.getUUID("id"));
        }

        Object key(String expectedSort) {
            if (!sort.equals(expectedSort)) {
                throw new BadRequestException("cursor belongs to another sort order");
            }
            if (sort.startsWith("metric:")) {
                return Double.parseDouble(key);
            }
            return switch (sort) {
                case "relevance" -> Float.parseFloat(key);
                case "popular" -> Long.parseLong(key);
                default -> OffsetDateTime.parse(key);
            };
        }

        String encode() {
            String json = new JsonObject().put("s", sort).put("k", key).put("i", id.toString()).encode();
            return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
        }

        static Cursor decode(String text, String sort) {
            try {
                JsonObject json = new JsonObject(new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8));
                Cursor c = new Cursor(json.getString("s"), json.getString("k"), UUID.fromString(json.getString("i")));
                c.key(sort);
                return c;
            } catch (BadRequestException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new BadRequestException("cursor is not one this API returned");
            }
        }
    }
}
