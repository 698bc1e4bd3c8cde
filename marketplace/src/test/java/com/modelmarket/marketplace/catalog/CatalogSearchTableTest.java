package com.modelmarket.marketplace.catalog;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What migration V21 keeps in catalog_search and catalog_search_text equals what it is computed from (models, versions,
 * subscriptions, the publisher) after every one of a seeded run of changes; and keyset walks of the
 * catalog — relevance tiers, newest and popular, with text, filters, every kind of caller — return
 * exactly the models the definition over the raw rows gives, once each and in order (docs/api.md:
 * relevance tier 2 when the name alone satisfies the query, 1 when name, tags and summary do, 0 when
 * only the whole card does; ties by id). Seeded: {@code -Dmm.seed=N} replays a run.
 */
@StartedPlatform
class CatalogSearchTableTest {

    private static final long SEED = Long.getLong("mm.seed", 20261201L);
    /** catalog_search as its definition over the raw rows. */
    private static final String DEFINED = "SELECT m.id, m.tenant_id, m.kind, m.visibility, (m.kind = 'algorithm' OR EXISTS (SELECT 1 "
            + "FROM model_versions v WHERE v.model_id = m.id AND v.state IN ('published', 'deprecated'))), t.deleted_at IS NOT NULL, "
            + "m.task, m.framework, m.tags, m.created_at, (SELECT count(*) FROM subscriptions s WHERE s.model_id = m.id AND "
            + "s.status = 'active'), setweight(to_tsvector('english', m.name), 'A'), setweight(to_tsvector('english', m.name), 'A') "
            + "|| setweight(to_tsvector('english', mm_tags_text(m.tags)), 'B') || setweight(to_tsvector('english', m.summary), 'B') "
            + "FROM models m JOIN tenants t ON t.id = m.tenant_id";
    private static final String KEPT = "SELECT model_id, tenant_id, kind, visibility, open, publisher_gone, task, framework, tags, "
            + "created_at, subscribers, name_vector, card_vector FROM catalog_search";
    /** catalog_search_text as its definition: the whole card's lexemes that are not in name, tags or summary. */
    private static final String DEFINED_TEXT = "SELECT m.id, ARRAY(SELECT unnest(tsvector_to_array(m.search)) EXCEPT "
            + "SELECT unnest(tsvector_to_array(to_tsvector('english', m.name) || to_tsvector('english', mm_tags_text(m.tags)) "
            + "|| to_tsvector('english', m.summary))) ORDER BY 1) FROM models m";
    private static final String KEPT_TEXT = "SELECT model_id, ARRAY(SELECT unnest(tsvector_to_array(lexemes)) ORDER BY 1) "
            + "FROM catalog_search_text";
    private static final String DRIFT = "SELECT (SELECT count(*) FROM (" + DEFINED + " EXCEPT ALL " + KEPT + ") a) + "
            + "(SELECT count(*) FROM (" + KEPT + " EXCEPT ALL " + DEFINED + ") b) + "
            + "(SELECT count(*) FROM (" + DEFINED_TEXT + " EXCEPT ALL " + KEPT_TEXT + ") c) + "
            + "(SELECT count(*) FROM (" + KEPT_TEXT + " EXCEPT ALL " + DEFINED_TEXT + ") d)";
    private static final String[] WORDS = {"glimmerfox", "tarnwick", "brindlecap", "moskvane", "quillorb", "fenwhistle",
        "oxbrella", "drumlinth"};
    private static final List<String> STATES = List.of("draft", "published", "deprecated", "retired");
    private static final List<String> VISIBILITY = List.of("public", "public", "public", "private", "shared");
    private static final List<String> TASKS = List.of("regression", "image-classification", "translation");
    private static final List<String> FRAMEWORKS = List.of("pytorch", "onnx");

    private static Api api;
    private static DbTarget db;
    private static final List<String> tenants = new ArrayList<>();     // ids: three that sign up, one deleted later
    private static final List<String> tokens = new ArrayList<>();      // their bearer tokens (null: anonymous)
    private static final List<String> tenantSlugs = new ArrayList<>();
    private static final List<String> models = new ArrayList<>();
    private static final List<String> plans = new ArrayList<>();

    @BeforeAll
    static void start(Platform platform, Api client) {
        System.out.println("CatalogSearchTableTest seed " + SEED + " (-Dmm.seed=" + SEED + " replays it)");
        api = client;
        db = platform.services().database().target();
        for (String who : List.of("alpha", "beta", "gamma")) {
            tokens.add(accessToken(api.signUp("Cst " + who, "owner@cst-" + who + ".test", "cst-" + who + "-password")));
            tenants.add(Sql.strings(db, "SELECT tenant_id FROM users WHERE email = ?", "owner@cst-" + who + ".test").get(0));
            tenantSlugs.add(Sql.strings(db, "SELECT slug FROM tenants WHERE id = ?::uuid", tenants.get(tenants.size() - 1)).get(0));
        }
        String gone = UUID.randomUUID().toString();
        Sql.execute(db, "INSERT INTO tenants (id, name, slug) VALUES (?::uuid, 'Cst gone', 'cst-gone')", gone);
        tenants.add(gone);
        tenantSlugs.add("cst-gone");
    }

    private static String text(Random rng, int max) {
        List<String> out = new ArrayList<>();
        int n = rng.nextInt(max + 1);
        for (int i = 0; i < n; i++) {
            // skewed: the first words are broad, the last rare
            out.add(WORDS[(int) Math.floor(WORDS.length * Math.pow(rng.nextDouble(), 1.8))]);
        }
        return String.join(" ", out);
    }

    private static String tags(Random rng) {
        String t = text(rng, 2);
        return "{" + String.join(",", t.isEmpty() ? List.of() : List.of(t.split(" "))) + "}";
    }

    private static void insertModel(Random rng) {
        String id = UUID.randomUUID().toString();
        String tenant = tenants.get(rng.nextInt(tenants.size()));
        Sql.execute(db, "INSERT INTO models (id, tenant_id, kind, slug, name, summary, description, task, tags, framework, visibility, "
                + "created_at) VALUES (?::uuid, ?::uuid, ?, ?, ?, ?, ?, ?, ?::text[], ?, ?, timestamptz '2026-01-01' + ? * interval '1 hour')",
                id, tenant, rng.nextInt(4) == 0 ? "algorithm" : "model", "cst-" + models.size(),
                ("Cst " + text(rng, 2)).trim(), text(rng, 3), text(rng, 6), TASKS.get(rng.nextInt(TASKS.size())), tags(rng),
                FRAMEWORKS.get(rng.nextInt(FRAMEWORKS.size())), VISIBILITY.get(rng.nextInt(VISIBILITY.size())), rng.nextInt(6));
        String plan = UUID.randomUUID().toString();
        boolean free = rng.nextBoolean();
        Sql.execute(db, "INSERT INTO plans (id, model_id, tenant_id, name, type, currency, included_calls, monthly_fee_minor, "
                + "rate_limit_per_minute) VALUES (?::uuid, ?::uuid, ?::uuid, 'Plan', ?, 'EUR', 10, ?, 60)", plan, id, tenant,
                free ? "free" : "monthly", free ? 0 : 500);
        models.add(id);
        plans.add(plan);
    }

    /** One random change to the catalog: a model, its versions, its subscribers, its shares or its publisher. */
    private static void change(Random rng) {
        int m = rng.nextInt(models.size());
        String model = models.get(m);
        String tenant = tenants.get(rng.nextInt(3));
        switch (rng.nextInt(13)) {
            case 0 -> insertModel(rng);
            case 1 -> Sql.execute(db, "UPDATE models SET name = ? WHERE id = ?::uuid", ("Cst " + text(rng, 2)).trim(), model);
            case 2 -> Sql.execute(db, "UPDATE models SET summary = ?, tags = ?::text[] WHERE id = ?::uuid", text(rng, 3), tags(rng), model);
            case 12 -> Sql.execute(db, "UPDATE models SET description = ? WHERE id = ?::uuid", text(rng, 6), model);
            case 3 -> Sql.execute(db, "UPDATE models SET visibility = ?, task = ?, framework = ? WHERE id = ?::uuid",
                    VISIBILITY.get(rng.nextInt(VISIBILITY.size())), TASKS.get(rng.nextInt(TASKS.size())),
                    FRAMEWORKS.get(rng.nextInt(FRAMEWORKS.size())), model);
            case 4, 5 -> Sql.execute(db, "INSERT INTO model_versions (model_id, tenant_id, version, major, minor, patch, state, "
                    + "artifact_sha256, artifact_size, manifest, load_millis, single_latency_micros) SELECT id, tenant_id, ?, 1, ?, 0, ?, "
                    + "repeat('c', 64), 1, '{}', 1, 1 FROM models WHERE id = ?::uuid", "1." + rng.nextInt(1_000_000) + ".0",
                    rng.nextInt(1000), STATES.get(rng.nextInt(STATES.size())), model);
            case 6 -> Sql.execute(db, "UPDATE model_versions SET state = ? WHERE id = (SELECT id FROM model_versions WHERE model_id = ?::uuid "
                    + "ORDER BY random() LIMIT 1)", STATES.get(rng.nextInt(STATES.size())), model);
            case 7 -> Sql.execute(db, "INSERT INTO subscriptions (tenant_id, model_id, plan_id, status) SELECT ?::uuid, ?::uuid, ?::uuid, "
                    + "'active' WHERE NOT EXISTS (SELECT 1 FROM subscriptions WHERE tenant_id = ?::uuid AND model_id = ?::uuid "
                    + "AND status = 'active')", tenant, model, plans.get(m), tenant, model);
            case 8 -> Sql.execute(db, "UPDATE subscriptions SET status = 'cancelled', ended_at = now() WHERE id = (SELECT id FROM "
                    + "subscriptions WHERE model_id = ?::uuid AND status = 'active' ORDER BY random() LIMIT 1)", model);
            case 9 -> Sql.execute(db, "INSERT INTO model_shares (model_id, tenant_id) SELECT ?::uuid, ?::uuid WHERE NOT EXISTS "
                    + "(SELECT 1 FROM model_shares WHERE model_id = ?::uuid AND tenant_id = ?::uuid)", model, tenant, model, tenant);
            case 10 -> Sql.execute(db, "DELETE FROM model_shares WHERE model_id = ?::uuid", model);
            default -> Sql.execute(db, "UPDATE tenants SET deleted_at = CASE WHEN deleted_at IS NULL THEN now() END WHERE id = ?::uuid",
                    tenants.get(3));
        }
    }

    @Test
    @DisplayName("catalog_search equals its definition over the raw rows after every one of a seeded run of changes, and keyset walks "
            + "of relevance, newest and popular (text, filters, every caller) return exactly the definition's models in its order")
    void keptAndWalked() {
        Random rng = new Random(SEED);
        for (int i = 0; i < 60; i++) {
            insertModel(rng);
        }
        assertEquals(0, Sql.count(db, DRIFT), "after the inserts");
        for (int op = 0; op < 250; op++) {
            change(rng);
            assertEquals(0, Sql.count(db, DRIFT), "after change " + op);
        }
        Sql.execute(db, "UPDATE tenants SET deleted_at = now() WHERE id = ?::uuid", tenants.get(3));
        assertEquals(0, Sql.count(db, DRIFT), "publisher deleted");
        int walks = 0;
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 40; i++) {
                walks += walkAndCompare(rng);
            }
            for (int op = 0; op < 40; op++) {
                change(rng);
            }
            Sql.execute(db, "UPDATE tenants SET deleted_at = now() WHERE id = ?::uuid", tenants.get(3));
            assertEquals(0, Sql.count(db, DRIFT), "round " + round);
        }
        assertTrue(walks > 20, "some walks had matches: " + walks);
        // a model deleted takes its row with it
        Sql.execute(db, "DELETE FROM models WHERE id = ?::uuid", models.get(0));
        assertEquals(0, Sql.count(db, DRIFT), "model deleted");
    }

    /** One random listing walked through the API and compared with the definition; 1 if it had a match. */
    private static int walkAndCompare(Random rng) {
        int caller = rng.nextInt(4); // 3: anonymous
        String sort = List.of("relevance", "relevance", "newest", "popular").get(rng.nextInt(4));
        String w1 = WORDS[rng.nextInt(WORDS.length)];
        String w2 = WORDS[rng.nextInt(WORDS.length)];
        String query = switch (rng.nextInt(7)) {
            case 0, 1 -> w1;
            case 2 -> w1 + " " + w2;
            case 3 -> w1 + " or " + w2;
            case 4 -> w1 + " -" + w2;
            case 5 -> "\"" + w1 + " " + w2 + "\"";
            default -> "relevance".equals(sort) ? w1 : null;
        };
        StringBuilder path = new StringBuilder("&sort=" + sort);
        StringBuilder where = new StringBuilder();
        List<Object> params = new ArrayList<>();
        String me = caller < 3 ? tenants.get(caller) : null;
        params.add(query);
        params.add(me);
        params.add(me);
        if (query != null) {
            path.append("&q=").append(URLEncoder.encode(query, StandardCharsets.UTF_8));
        }
        if (query == null || rng.nextInt(3) == 0) { // without text, one publisher's models only
            String slug = tenantSlugs.get(rng.nextInt(tenantSlugs.size()));
            path.append("&publisher=").append(slug);
            where.append(" AND t.slug = ?");
            params.add(slug);
        }
        if (rng.nextInt(3) == 0) {
            String task = TASKS.get(rng.nextInt(TASKS.size()));
            path.append("&task=").append(task);
            where.append(" AND m.task = ?");
            params.add(task);
        }
        if (rng.nextInt(4) == 0) {
            String w = WORDS[rng.nextInt(WORDS.length)];
            path.append("&tag=").append(w);
            where.append(" AND ? = ANY(m.tags)");
            params.add(w);
        }
        if (rng.nextInt(4) == 0) {
            path.append("&framework=onnx");
            where.append(" AND m.framework = 'onnx'");
        }
        if (rng.nextInt(4) == 0) {
            path.append("&kind=algorithm");
            where.append(" AND m.kind = 'algorithm'");
        }
        if (rng.nextInt(4) == 0) {
            path.append("&priceType=free");
            where.append(" AND EXISTS (SELECT 1 FROM plans p WHERE p.model_id = m.id AND p.archived_at IS NULL AND p.type = 'free')");
        }
        String key = switch (sort) {
            case "relevance" -> "CASE WHEN to_tsvector('english', m.name) @@ q THEN 2 WHEN (to_tsvector('english', m.name) "
                    + "|| to_tsvector('english', mm_tags_text(m.tags)) || to_tsvector('english', m.summary)) @@ q THEN 1 ELSE 0 END";
            case "popular" -> "(SELECT count(*) FROM subscriptions s WHERE s.model_id = m.id AND s.status = 'active')";
            default -> "m.created_at";
        };
        List<String> expected = Sql.strings(db, "SELECT m.slug FROM models m JOIN tenants t ON t.id = m.tenant_id, "
                + "(SELECT CASE WHEN ?::text IS NULL THEN NULL ELSE websearch_to_tsquery('english', ?::text) END) w(q) "
                + "WHERE t.deleted_at IS NULL AND m.slug LIKE 'cst-%' AND (w.q IS NULL OR m.search @@ w.q) "
                + "AND (m.tenant_id = ?::uuid OR ((m.visibility = 'public' OR (m.visibility = 'shared' AND EXISTS (SELECT 1 FROM "
                + "model_shares s WHERE s.model_id = m.id AND s.tenant_id = ?::uuid))) AND (m.kind = 'algorithm' OR EXISTS (SELECT 1 "
                + "FROM model_versions v WHERE v.model_id = m.id AND v.state IN ('published', 'deprecated')))))" + where
                + " ORDER BY " + key + " DESC, m.id DESC",
                withQueryTwice(params));
        List<String> seen = new ArrayList<>();
        String cursor = null;
        String token = caller < 3 ? tokens.get(caller) : null;
        int limit = 1 + rng.nextInt(4);
        do {
            var response = api.get("/api/v1/catalog?limit=" + limit + path + (cursor == null ? "" : "&cursor=" + cursor), token);
            assertEquals(200, response.statusCode(), path + ": " + response.bodyAsString());
            JsonObject page = response.bodyAsJsonObject();
            JsonArray items = page.getJsonArray("items");
            items.forEach(o -> seen.add(((JsonObject) o).getString("slug")));
            cursor = page.getString("nextCursor");
            assertTrue(seen.size() <= expected.size() + limit, "runaway walk " + path);
        } while (cursor != null);
        assertEquals(seen.size(), new HashSet<>(seen).size(), "each model once: " + path);
        assertEquals(expected, seen, "caller " + caller + " " + path);
        return expected.isEmpty() ? 0 : 1;
    }

    /** The query text is bound twice (the null test and the parse), then the caller twice, then the filters. */
    private static Object[] withQueryTwice(List<Object> params) {
        List<Object> out = new ArrayList<>();
        out.add(params.get(0));
        out.addAll(params);
        return out.toArray();
    }
}
