package com.modelmarket.marketplace.catalog;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.freePlan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Full-text search, filters, orders and keyset pagination. Algorithms need no upload, so they fill the catalog fast. */
@StartedPlatform
class SearchTest {

    private static Platform platform;
    private static Api api;
    private static String publisher;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        api = client;
        publisher = accessToken(api.signUp("Search Labs", "owner@search.test", "search-password"));
    }

    private static void algorithm(String slug, String name, String summary, String description, String task, String... tags) {
        createModel(api, publisher, slug, "public", new JsonObject().put("kind", "algorithm").put("name", name)
                .put("summary", summary).put("description", description).put("task", task)
                .put("tags", new JsonArray(List.of(tags)))
                .put("algorithm", new JsonObject().put("task", "classification").put("architecture", new JsonObject().put("kind", "linear"))
                        .put("hyperparameters", new JsonObject().put("learningRate", new JsonObject().put("type", "double")
                                .put("default", 0.01).put("min", 0.0001).put("max", 1.0)))));
    }

    private static List<String> slugs(JsonObject page) {
        return page.getJsonArray("items").stream().map(o -> ((JsonObject) o).getString("slug")).toList();
    }

    @Test
    @DisplayName("a term finds the entries that mention it, best matches (name) before weaker ones (description)")
    void relevance() {
        algorithm("rel-name", "Capybara regression", "linear model", "plain", "regression");
        algorithm("rel-desc", "Ridge", "regularised linear model", "works for capybara counting too", "regression");
        algorithm("rel-none", "Lasso", "sparse linear model", "nothing to see", "regression");
        JsonObject page = api.get("/api/v1/catalog?q=capybara", null).bodyAsJsonObject();
        assertEquals(List.of("rel-name", "rel-desc"), slugs(page));
        assertEquals("relevance", page.getString("sort"));
    }

    @Test
    @DisplayName("filters by task, tag, publisher, kind and price type")
    void filters() {
        algorithm("flt-a", "Filter A", "okapi", "", "tabular-classification", "okapi", "trees");
        algorithm("flt-b", "Filter B", "okapi", "", "regression", "okapi");
        freePlan(api, publisher, "flt-b");
        assertEquals(List.of("flt-a"), slugs(api.get("/api/v1/catalog?q=okapi&task=tabular-classification", null).bodyAsJsonObject()));
        assertEquals(List.of("flt-a"), slugs(api.get("/api/v1/catalog?q=okapi&tag=trees", null).bodyAsJsonObject()));
        assertEquals(List.of("flt-b"), slugs(api.get("/api/v1/catalog?q=okapi&priceType=free", null).bodyAsJsonObject()));
        assertEquals(2, slugs(api.get("/api/v1/catalog?q=okapi&publisher=search-labs&kind=algorithm", null).bodyAsJsonObject()).size());
        assertEquals(0, slugs(api.get("/api/v1/catalog?q=okapi&publisher=nobody", null).bodyAsJsonObject()).size());
        assertProblem(api.get("/api/v1/catalog?sort=cheapest", null), 400);
        assertProblem(api.get("/api/v1/catalog?limit=0", null), 400);
        assertProblem(api.get("/api/v1/catalog?cursor=garbage", null), 400);
    }

    @Test
    @DisplayName("newest first, and pages follow each other without duplicates or gaps while entries are inserted")
    void paginationUnderInserts() {
        List<String> original = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            algorithm("page-" + i, "Pager " + i, "pangolinpage", "", "regression");
            original.add("page-" + i);
        }
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int inserted = 0;
        do {
            JsonObject page = api.get("/api/v1/catalog?q=pangolinpage&sort=newest&limit=5"
                    + (cursor == null ? "" : "&cursor=" + cursor), null).bodyAsJsonObject();
            seen.addAll(slugs(page));
            cursor = page.getString("nextCursor");
            algorithm("page-new-" + inserted, "Pager new " + inserted, "pangolinpage", "", "regression");
            inserted++;
        } while (cursor != null);
        Set<String> unique = new HashSet<>(seen);
        assertEquals(seen.size(), unique.size(), "duplicates: " + seen);
        assertTrue(unique.containsAll(original), "gaps: " + seen);
        List<String> newestFirst = new ArrayList<>(original);
        java.util.Collections.reverse(newestFirst);
        assertEquals(newestFirst, seen.stream().filter(original::contains).toList(), "order");

        List<String> byRelevance = new ArrayList<>();
        cursor = null;
        do {
            JsonObject page = api.get("/api/v1/catalog?q=pangolinpage&limit=4" + (cursor == null ? "" : "&cursor=" + cursor),
                    null).bodyAsJsonObject();
            byRelevance.addAll(slugs(page));
            cursor = page.getString("nextCursor");
        } while (cursor != null);
        assertEquals(new HashSet<>(byRelevance).size(), byRelevance.size());
        assertEquals(12 + inserted, byRelevance.size());
    }

    @Test
    @DisplayName("popular sorts by subscribers")
    void popular() {
        algorithm("pop-a", "Pop A", "lemurpop", "", "regression");
        algorithm("pop-b", "Pop B", "lemurpop", "", "regression");
        String planId = freePlan(api, publisher, "pop-a").getString("id");
        String fan = accessToken(api.signUp("Fan Club", "owner@fan.test", "fan-club-password"));
        assertEquals(201, api.post("/api/v1/subscriptions", fan, new JsonObject().put("model", "pop-a")
                .put("planId", planId)).statusCode());
        JsonObject page = api.get("/api/v1/catalog?q=lemurpop&sort=popular", null).bodyAsJsonObject();
        assertEquals(List.of("pop-a", "pop-b"), slugs(page));
        assertEquals(1, page.getJsonArray("items").getJsonObject(0).getLong("subscribers"));
        assertNull(page.getString("nextCursor"));
    }
}
