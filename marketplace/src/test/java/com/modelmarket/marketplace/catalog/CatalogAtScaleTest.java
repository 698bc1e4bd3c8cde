package com.modelmarket.marketplace.catalog;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What migration V17 keeps on the model's row stays exact (models.listed, models.active_subscribers
 * against the EXISTS and the count they replace), and keyset pages over the orders its indexes serve
 * return every model exactly once, in order, ties included. Seeded: {@code -Dmm.seed=N} replays a run.
 */
@StartedPlatform
class CatalogAtScaleTest {

    private static final long SEED = Long.getLong("mm.seed", 20261201L);
    private static final String DRIFT = "SELECT count(*) FROM models m WHERE m.listed <> EXISTS (SELECT 1 FROM model_versions v "
            + "WHERE v.model_id = m.id AND v.state IN ('published', 'deprecated')) OR m.active_subscribers <> (SELECT count(*) "
            + "FROM subscriptions s WHERE s.model_id = m.id AND s.status = 'active')";
    private static final List<String> STATES = List.of("draft", "published", "deprecated", "retired");

    private static Api api;
    private static DbTarget db;
    private static String publisher;
    private static String publisherId;

    @BeforeAll
    static void start(Platform platform, Api client) {
        System.out.println("CatalogAtScaleTest seed " + SEED + " (-Dmm.seed=" + SEED + " replays it)");
        api = client;
        db = platform.services().database().target();
        publisher = accessToken(api.signUp("Scale Labs", "owner@scale-labs.test", "scale-labs-password"));
        publisherId = uuid("SELECT id FROM tenants WHERE slug = 'scale-labs'");
    }

    private static String uuid(String sql, Object... params) {
        return Sql.strings(db, sql, params).get(0);
    }

    @Test
    @DisplayName("listed and active subscribers equal the EXISTS and the count they replace after every one of a seeded run of changes")
    void keptColumnsStayExact() {
        Random rng = new Random(SEED);
        List<String> models = new ArrayList<>();
        List<String> plans = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String id = UUID.randomUUID().toString();
            Sql.execute(db, "INSERT INTO models (id, tenant_id, kind, slug, name, task, visibility) VALUES (?::uuid, ?::uuid, 'model', ?, "
                    + "'Kept', 'regression', 'public')", id, publisherId, "kept-" + i);
            String plan = UUID.randomUUID().toString();
            Sql.execute(db, "INSERT INTO plans (id, model_id, tenant_id, name, type, currency, included_calls, rate_limit_per_minute) "
                    + "VALUES (?::uuid, ?::uuid, ?::uuid, 'Free', 'free', 'EUR', 10, 60)", plan, id, publisherId);
            models.add(id);
            plans.add(plan);
        }
        List<String> consumers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String id = UUID.randomUUID().toString();
            Sql.execute(db, "INSERT INTO tenants (id, name, slug) VALUES (?::uuid, 'Kept consumer', ?)", id, "kept-consumer-" + i);
            consumers.add(id);
        }
        int versions = 0;
        for (int op = 0; op < 300; op++) {
            int m = rng.nextInt(models.size());
            String model = models.get(m);
            String tenant = consumers.get(rng.nextInt(consumers.size()));
            switch (rng.nextInt(7)) {
                case 0, 1 -> Sql.execute(db, "INSERT INTO model_versions (model_id, tenant_id, version, major, minor, patch, state, "
                        + "artifact_sha256, artifact_size, manifest, load_millis, single_latency_micros) VALUES (?::uuid, ?::uuid, ?, 1, ?, 0, "
                        + "?, repeat('b', 64), 1, '{}', 1, 1)", model, publisherId, "1." + versions + ".0", versions++,
                        STATES.get(rng.nextInt(STATES.size())));
                case 2 -> Sql.execute(db, "UPDATE model_versions SET state = ? WHERE id = (SELECT id FROM model_versions WHERE model_id = ?::uuid "
                        + "ORDER BY random() LIMIT 1)", STATES.get(rng.nextInt(STATES.size())), model);
                case 3 -> Sql.execute(db, "DELETE FROM model_versions WHERE id = (SELECT id FROM model_versions WHERE model_id = ?::uuid "
                        + "ORDER BY random() LIMIT 1)", model);
                case 4 -> Sql.execute(db, "INSERT INTO subscriptions (tenant_id, model_id, plan_id, status) SELECT ?::uuid, ?::uuid, ?::uuid, "
                        + "'active' WHERE NOT EXISTS (SELECT 1 FROM subscriptions WHERE tenant_id = ?::uuid AND model_id = ?::uuid "
                        + "AND status = 'active')", tenant, model, plans.get(m), tenant, model);
                case 5 -> Sql.execute(db, "UPDATE subscriptions SET status = 'cancelled', ended_at = now() WHERE id = (SELECT id FROM "
                        + "subscriptions WHERE model_id = ?::uuid AND status = 'active' ORDER BY random() LIMIT 1)", model);
                default -> Sql.execute(db, "DELETE FROM subscriptions WHERE id = (SELECT id FROM subscriptions WHERE model_id = ?::uuid "
                        + "ORDER BY random() LIMIT 1)", model);
            }
            assertEquals(0, Sql.count(db, DRIFT), "after change " + op);
        }
        assertTrue(Sql.count(db, "SELECT count(*) FROM models WHERE slug LIKE 'kept-%' AND listed") > 0, "some listed");
        assertTrue(Sql.count(db, "SELECT sum(active_subscribers) FROM models WHERE slug LIKE 'kept-%'") > 0, "some subscribed");
        // a consumer deleted with its subscriptions (cascade) takes its counts with it
        Sql.execute(db, "DELETE FROM tenants WHERE id = ?::uuid", consumers.get(0));
        assertEquals(0, Sql.count(db, DRIFT));
    }

    @Test
    @DisplayName("keyset pages of newest, popular and relevance return every model once and in order, ties in the key included")
    void keysetWalks() {
        int n = 37;
        for (int i = 0; i < n; i++) {
            createModel(api, publisher, "walk-" + i, "public", new JsonObject().put("kind", "algorithm").put("name", "Walker")
                    .put("summary", "quokkawalk").put("task", "regression")
                    .put("algorithm", new JsonObject().put("task", "classification").put("architecture", new JsonObject().put("kind", "linear"))
                            .put("hyperparameters", new JsonObject().put("learningRate", new JsonObject().put("type", "double")
                                    .put("default", 0.01).put("min", 0.0001).put("max", 1.0)))));
        }
        // ties: groups of models created at the same instant, and with the same number of subscribers
        Sql.execute(db, "UPDATE models SET created_at = timestamptz '2026-01-01' + (abs(hashtext(slug)) % 5) * interval '1 hour' "
                + "WHERE slug LIKE 'walk-%'");
        Sql.execute(db, "INSERT INTO plans (model_id, tenant_id, name, type, currency, included_calls, rate_limit_per_minute) "
                + "SELECT id, tenant_id, 'Free', 'free', 'EUR', 10, 60 FROM models WHERE slug LIKE 'walk-%'");
        for (int t = 0; t < 3; t++) {
            String tenant = UUID.randomUUID().toString();
            Sql.execute(db, "INSERT INTO tenants (id, name, slug) VALUES (?::uuid, 'Fan', ?)", tenant, "walk-fan-" + t);
            Sql.execute(db, "INSERT INTO subscriptions (tenant_id, model_id, plan_id, status) SELECT ?::uuid, m.id, p.id, 'active' "
                    + "FROM models m JOIN plans p ON p.model_id = m.id WHERE m.slug LIKE 'walk-%' AND abs(hashtext(m.slug || ?)) % 3 = 0",
                    tenant, "" + t);
        }
        List<String> newest = walk("&sort=newest", n);
        assertEquals(Sql.strings(db, "SELECT slug FROM models WHERE slug LIKE 'walk-%' ORDER BY created_at DESC, id DESC"), newest);
        List<String> popular = walk("&sort=popular", n);
        assertEquals(Sql.strings(db, "SELECT m.slug FROM models m WHERE m.slug LIKE 'walk-%' ORDER BY (SELECT count(*) FROM subscriptions s "
                + "WHERE s.model_id = m.id AND s.status = 'active') DESC, m.id DESC"), popular);
        List<String> relevance = walk("", n); // the same text everywhere: one rank, so the id decides
        assertEquals(Sql.strings(db, "SELECT slug FROM models WHERE slug LIKE 'walk-%' ORDER BY id DESC"), relevance);
    }

    /** Every page of the query's listing, 4 a page; checks each model comes once and there are n. */
    private static List<String> walk(String sort, int n) {
        List<String> seen = new ArrayList<>();
        String cursor = null;
        do {
            JsonObject page = api.get("/api/v1/catalog?q=quokkawalk&limit=4" + sort + (cursor == null ? "" : "&cursor=" + cursor), null)
                    .bodyAsJsonObject();
            JsonArray items = page.getJsonArray("items");
            items.forEach(o -> seen.add(((JsonObject) o).getString("slug")));
            cursor = page.getString("nextCursor");
        } while (cursor != null);
        assertEquals(seen.size(), new HashSet<>(seen).size(), "each model once: " + seen);
        assertEquals(n, seen.size(), "every model: " + seen);
        return seen;
    }
}
