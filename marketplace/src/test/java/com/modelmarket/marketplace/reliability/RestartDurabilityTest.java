package com.modelmarket.marketplace.reliability;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.plan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import com.modelmarket.marketplace.support.Clocks;
import java.time.Duration;
import com.modelmarket.billing.rating.BillingPeriod;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.TestDatabases;
import com.modelmarket.marketplace.support.TestPlatform;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A graceful stop and a new platform on the same data directory and database lose nothing and
 * change nothing: usage, final invoices, earnings and the catalog read back identical, and closing
 * the already-closed period again writes nothing. Billing periods are six "days" of one second.
 */
@ExtendWith(VertxExtension.class)
@Tag("slow")
class RestartDurabilityTest {

    private static final int CALLS = 30;
    private static final String SLUG = "durable-digits";
    private static final JsonObject REQUEST = Publishing.manifest("digits_mlp").getJsonObject("example");

    @Test
    @DisplayName("after a graceful restart on the same data, usage, the final invoice and the catalog read back identical, and closing again changes nothing")
    void restartChangesNothing(Vertx vertx, @TempDir Path dir) throws Exception {
        long began = System.nanoTime();
        DbTarget db = TestDatabases.freshDatabase();
        Map<String, String> overrides = new HashMap<>(TestPlatform.baseOverrides(dir.resolve("data")));
        overrides.put("db.url", TestDatabases.url(db));
        overrides.put("billing.period-day-seconds", "1");
        overrides.put("metering.rollup-seconds", "1"); // the test's one-second "days" need one-second usage buckets
        overrides.put("billing.period-days", "6");
        overrides.put("billing.close-grace-seconds", "100000"); // the test closes its period itself
        overrides.put("billing.platform-fee-bp", "1500");

        Platform first = TestPlatform.start(vertx, overrides);
        String publisher;
        String consumer;
        String consumerKey;
        String consumerTenant;
        BillingPeriod period;
        Set<String> answered = new HashSet<>();
        Map<String, String> before;
        long restartMillis;
        try (Api api = new Api(vertx, first.port())) {
            publisher = accessToken(api.signUp("Durable Labs", "owner@durable.test", "durable-password"));
            createModel(api, publisher, SLUG, "public", new JsonObject());
            publishVersion(api, publisher, SLUG, "1.0.0", "digits_mlp");
            publishVersion(api, publisher, SLUG, "1.1.0", "digits_mlp");
            assertEquals(200, api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/" + SLUG + "/aliases/stable", publisher,
                    new JsonObject().put("version", "1.0.0")).statusCode());
            String payg = plan(api, publisher, SLUG, new JsonObject().put("name", "PAYG").put("type", "pay_as_you_go")
                    .put("currency", "EUR").put("pricePer1000Minor", 1000).put("rateLimitPerMinute", 10_000)).getString("id");
            plan(api, publisher, SLUG, new JsonObject().put("name", "Pro").put("type", "monthly").put("currency", "EUR")
                    .put("monthlyFeeMinor", 3000).put("includedCalls", 100).put("pricePer1000Minor", 500)
                    .put("rateLimitPerMinute", 10_000));
            JsonObject consumerSignUp = api.signUp("Durable Client", "owner@durableclient.test", "durable-client-password");
            consumer = accessToken(consumerSignUp);
            consumerTenant = api.get("/api/v1/me", consumer).bodyAsJsonObject().getString("tenantId");
            assertEquals(201, api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", SLUG)
                    .put("planId", payg)).statusCode());
            consumerKey = api.post("/api/v1/api-keys", consumer, new JsonObject().put("name", "durable"))
                    .bodyAsJsonObject().getString("secret");
            String publisherKey = api.post("/api/v1/api-keys", publisher, new JsonObject().put("name", "warm-up"))
                    .bodyAsJsonObject().getString("secret");
            // the publisher's own call loads the model, so that the consumer's calls are quick
            assertEquals(200, api.post("/v2/models/" + SLUG + "/infer", publisherKey, REQUEST).statusCode());

            // all the consumer's calls inside one period, which then ends and is closed
            period = first.services().invoicing().periods().periodOf(Instant.now());
            if (period.end().minusSeconds(4).isBefore(Instant.now())) {
                Clocks.awaitPassed(period.end().plusMillis(20));
                period = first.services().invoicing().periods().periodOf(Instant.now());
            }
            for (int i = 0; i < CALLS; i++) {
                HttpResponse<Buffer> r = api.post("/v2/models/" + SLUG + "/infer", consumerKey, REQUEST);
                assertEquals(200, r.statusCode(), r.bodyAsString());
                answered.add(r.getHeader("X-Request-Id"));
            }
            assertTrue(Instant.now().isBefore(period.end()), "the calls took longer than the " + period + " they were to fit in");
            assertEquals(CALLS, answered.size(), "distinct request ids");
            awaitUsage(db, consumerTenant, CALLS);
            Clocks.awaitPassed(period.end().plusMillis(100));
            int written = Api.await(first.services().invoicing().closePeriod(period));
            assertEquals(1, written, "one final invoice: the consumer's");

            before = observe(api, db, publisher, consumer, consumerTenant, period);
            JsonObject invoice = new JsonObject(before.get("invoice list (final)")).getJsonArray("items").getJsonObject(0);
            assertEquals("final", invoice.getString("status"));
            assertEquals(CALLS, invoice.getLong("totalMinor"), "one minor unit per call: " + invoice.encode());
            assertEquals(CALLS, invoice.getJsonArray("lines").getJsonObject(0).getLong("calls"), invoice.encode());
            JsonArray usage = new JsonObject(before.get("usage summary")).getJsonArray("items");
            assertEquals(CALLS, usage.stream().mapToLong(o -> ((JsonObject) o).getLong("calls")).sum(), usage.encode());

        } finally {
            long stopping = System.nanoTime();
            TestPlatform.stop(first); // graceful: drains, flushes the meter, closes the pool
            restartMillis = (System.nanoTime() - stopping) / 1_000_000;
        }
        assertNoJournal(dir.resolve("data"));

        long starting = System.nanoTime();
        Platform second = TestPlatform.start(vertx, overrides);
        restartMillis += (System.nanoTime() - starting) / 1_000_000;
        try (Api api = new Api(vertx, second.port())) {
            // the meter's journal, if any, is replayed at start, within a flush interval or so
            await("metered request ids = answered ones").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .untilAsserted(() -> assertEquals(answered, requestIds(db, consumerTenant)));
            assertEquals(CALLS, Sql.meteredCalls(db, consumerTenant));
            assertEquals(CALLS, Sql.meteredRequestIds(db, consumerTenant).size(), "no duplicates in the commit log");

            // the same sessions and keys are honoured: they were signed and hashed with keys kept in the data directory
            Map<String, String> after = observe(api, db, publisher, consumer, consumerTenant, period);
            assertUnchanged(before, after, "after the restart");

            var both = Api.await(Future.all(second.services().invoicing().closePeriod(period),
                    second.services().invoicing().closePeriod(period)));
            assertEquals(0, both.<Integer>resultAt(0) + both.<Integer>resultAt(1), "closing the closed period again, twice at once");
            assertUnchanged(before, observe(api, db, publisher, consumer, consumerTenant, period), "after closing again");

            HttpResponse<Buffer> served = api.post("/v2/models/" + SLUG + "/infer", consumerKey, REQUEST);
            assertEquals(200, served.statusCode(), "the new platform serves the stored model: " + served.bodyAsString());
            awaitUsage(db, consumerTenant, CALLS + 1);
        } finally {
            TestPlatform.stop(second);
        }
        assertNoJournal(dir.resolve("data"));
        System.out.println("RestartDurabilityTest calls=" + CALLS + " metered=" + requestIds(db, consumerTenant).size()
                + " invoices=" + Sql.count(db, "SELECT count(*) FROM invoices") + " stop+start=" + restartMillis + "ms total="
                + (System.nanoTime() - began) / 1_000_000 + "ms");
    }

    /** Everything that must survive a restart, read through the API and from the raw rows. */
    private static Map<String, String> observe(Api api, DbTarget db, String publisher, String consumer, String consumerTenant,
                                               BillingPeriod period) {
        Map<String, String> seen = new LinkedHashMap<>();
        JsonArray finals = new JsonArray(api.get("/api/v1/invoices", consumer).bodyAsJsonObject().getJsonArray("items").stream()
                .map(JsonObject.class::cast).filter(i -> "final".equals(i.getString("status"))).toList());
        assertEquals(1, finals.size(), finals.encode());
        seen.put("invoice list (final)", new JsonObject().put("items", finals).encode());
        String id = finals.getJsonObject(0).getString("id");
        seen.put("invoice", body(api, "/api/v1/invoices/" + id, consumer));
        seen.put("invoice csv", body(api, "/api/v1/invoices/" + id + ".csv", consumer));
        seen.put("earnings", body(api, "/api/v1/earnings?period=" + period.start(), publisher));
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        seen.put("usage summary", body(api, "/api/v1/usage/summary?from=" + today.minusDays(1) + "&to=" + today, consumer));
        seen.put("model (publisher)", body(api, "/api/v1/models/" + SLUG, publisher));
        seen.put("model (anyone)", body(api, "/api/v1/models/" + SLUG, null));
        seen.put("plans", body(api, "/api/v1/models/" + SLUG + "/plans", null));
        seen.put("subscriptions", body(api, "/api/v1/subscriptions", consumer));
        OffsetDateTime start = period.start().atOffset(ZoneOffset.UTC);
        seen.put("rows: billing period", rows(db, "SELECT p.* FROM billing_periods p WHERE period_start = ?", start));
        seen.put("rows: invoices", rows(db, "SELECT i.* FROM invoices i"));
        seen.put("rows: invoice lines", rows(db, "SELECT l.* FROM invoice_lines l"));
        seen.put("rows: usage", rows(db, "SELECT u.* FROM usage_rollups u WHERE tenant_id = ?::uuid", consumerTenant));
        seen.put("rows: usage commits", rows(db, "SELECT c.* FROM usage_commits c"));
        seen.put("rows: models", rows(db, "SELECT m.* FROM models m"));
        seen.put("rows: versions", rows(db, "SELECT v.* FROM model_versions v"));
        seen.put("rows: aliases", rows(db, "SELECT a.* FROM model_aliases a"));
        seen.put("rows: plans", rows(db, "SELECT p.* FROM plans p"));
        seen.put("rows: subscriptions", rows(db, "SELECT s.* FROM subscriptions s"));
        seen.put("rows: subscription segments", rows(db, "SELECT g.* FROM subscription_segments g"));
        return seen;
    }

    private static void assertUnchanged(Map<String, String> expected, Map<String, String> actual, String when) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String what : expected.keySet()) {
            assertEquals(expected.get(what), actual.get(what), what + " " + when);
        }
        assertFalse(expected.get("model (publisher)").isEmpty());
    }

    private static String body(Api api, String path, String bearer) {
        HttpResponse<Buffer> r = api.get(path, bearer);
        assertEquals(200, r.statusCode(), () -> path + ": " + r.bodyAsString());
        return r.bodyAsString();
    }

    /** Every row of a query, as PostgreSQL prints it, sorted: equal strings mean equal rows. */
    private static String rows(DbTarget db, String query, Object... params) {
        try (var c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             var q = c.prepareStatement("SELECT t::text FROM (" + query + ") t")) {
            for (int i = 0; i < params.length; i++) {
                q.setObject(i + 1, params[i]);
            }
            TreeSet<String> out = new TreeSet<>();
            try (var rs = q.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            assertFalse(out.isEmpty(), "no rows: " + query);
            return String.join("\n", out);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(query, e);
        }
    }

    /** The tenant's request ids in the usage commit log. */
    private static Set<String> requestIds(DbTarget db, String tenant) {
        return new HashSet<>(Sql.meteredRequestIds(db, tenant));
    }

    private static void awaitUsage(DbTarget db, String tenant, long expected) {
        await("usage records of " + tenant).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertEquals(expected,
                        Sql.meteredCalls(db, tenant)));
    }

    /** A graceful stop delivers every record to the database: nothing is left for the next start to replay. */
    private static void assertNoJournal(Path dataDir) throws java.io.IOException {
        Path journal = dataDir.resolve("usage-journal");
        if (Files.isDirectory(journal)) {
            try (var files = Files.list(journal)) {
                assertEquals(List.of(), files.toList(), "usage journal after a graceful stop");
            }
        }
    }

}
