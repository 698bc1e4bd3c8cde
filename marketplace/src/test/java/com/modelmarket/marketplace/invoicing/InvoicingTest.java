package com.modelmarket.marketplace.invoicing;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.plan;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Usage dashboards, drafts, closing periods and publisher earnings, on short billing periods
 * (four "days" of two seconds each) so that periods end during the test.
 */
@StartedPlatform({
        "billing.period-day-seconds=2",
        "metering.rollup-seconds=1",
        "billing.period-days=4",
        "billing.close-grace-seconds=100000",
        "billing.platform-fee-bp=1500"})
class InvoicingTest {

    private static Platform platform;
    private static Api api;
    private static String publisher;
    private static String consumer;
    private static String consumerKey;
    private static DbTarget db;

    @BeforeAll
    static void start(Platform started, Api client) {
        platform = started;
        db = platform.services().database().target();
        api = client;
        publisher = accessToken(api.signUp("Bill Labs", "owner@bill.test", "publisher-password"));
        createModel(api, publisher, "bill-payg", "public", new JsonObject());
        publishVersion(api, publisher, "bill-payg", "1.0.0", "digits_mlp");
        createModel(api, publisher, "bill-monthly", "public", new JsonObject());
        publishVersion(api, publisher, "bill-monthly", "1.0.0", "diabetes_regressor");
        String payg = plan(api, publisher, "bill-payg", new JsonObject().put("name", "PAYG").put("type", "pay_as_you_go")
                .put("currency", "EUR").put("pricePer1000Minor", 1000).put("rateLimitPerMinute", 10_000)).getString("id");
        String monthly = plan(api, publisher, "bill-monthly", new JsonObject().put("name", "Pro").put("type", "monthly")
                .put("currency", "EUR").put("monthlyFeeMinor", 3000).put("includedCalls", 2).put("pricePer1000Minor", 500)
                .put("rateLimitPerMinute", 10_000)).getString("id");
        consumer = accessToken(api.signUp("Bill Client", "owner@billclient.test", "consumer-password"));
        api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", "bill-payg").put("planId", payg));
        api.post("/api/v1/subscriptions", consumer, new JsonObject().put("model", "bill-monthly").put("planId", monthly));
        consumerKey = api.post("/api/v1/api-keys", consumer, new JsonObject().put("name", "bill")).bodyAsJsonObject().getString("secret");
    }

    private static int call(String model, String fixture, int times) {
        int ok = 0;
        for (int i = 0; i < times; i++) {
            HttpResponse<Buffer> r = api.post("/v2/models/" + model + "/infer", consumerKey,
                    Publishing.manifest(fixture).getJsonObject("example"));
            ok += r.statusCode() == 200 ? 1 : 0;
        }
        return ok;
    }

    private static void awaitMetered(long expected) {
        await("usage records").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertEquals(expected, Sql.meteredCalls(db)));
    }

    @Test
    @DisplayName("usage dashboards equal the raw records' sums, per day, model and key; quotas and CSV agree")
    void dashboardsEqualRawSums() {
        long before = Sql.meteredCalls(db);
        int ok = call("bill-payg", "digits_mlp", 5) + call("bill-monthly", "diabetes_regressor", 3);
        awaitMetered(before + ok);
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        JsonArray rows = api.get("/api/v1/usage/summary?from=" + today.minusDays(1) + "&to=" + today, consumer)
                .bodyAsJsonObject().getJsonArray("items");
        long apiCalls = rows.stream().mapToLong(o -> ((JsonObject) o).getLong("calls")).sum();
        long apiItems = rows.stream().mapToLong(o -> ((JsonObject) o).getLong("items")).sum();
        String tenant = api.get("/api/v1/me", consumer).bodyAsJsonObject().getString("tenantId");
        assertEquals(Sql.meteredCalls(db, tenant), apiCalls);
        assertEquals(Sql.count(db, "SELECT coalesce(sum(items), 0) FROM usage_rollups WHERE tenant_id = ?::uuid", tenant), apiItems);
        for (Object o : rows) {
            JsonObject r = (JsonObject) o;
            assertEquals(Sql.count(db, "SELECT coalesce(sum(u.calls), 0) FROM usage_rollups u JOIN models m ON m.id = u.model_id "
                            + "WHERE u.tenant_id = ?::uuid AND m.slug = ? AND u.api_key_id = ?::uuid AND (u.bucket AT TIME ZONE 'UTC')::date = ?::date",
                    tenant, r.getString("model"), r.getString("apiKeyId"), r.getString("day")), r.getLong("calls"), r.encode());
            assertEquals("bill", r.getString("apiKey"));
            assertEquals("1.0.0", r.getString("version"));
            assertEquals(r.getString("model").equals("bill-payg") ? "PAYG" : "Pro", r.getString("plan"), r.encode());
        }
        String csv = api.get("/api/v1/usage/summary.csv?from=" + today + "&to=" + today, consumer).bodyAsString();
        assertTrue(csv.startsWith("day,model,version,plan,api_key,calls"), csv);
        assertEquals(rows.size() + 1, csv.lines().count());
        JsonArray quotas = api.get("/api/v1/quotas", consumer).bodyAsJsonObject().getJsonArray("items");
        assertEquals(2, quotas.size());
        assertProblem(api.get("/api/v1/usage/summary?from=yesterday", consumer), 400);
    }

    /** The current period, or the next one when too little of it is left for the calls to land in it. */
    private static BillingPeriod periodWithTimeLeft(InvoicingService invoicing) {
        BillingPeriod period = invoicing.periods().periodOf(Instant.now());
        if (Duration.between(Instant.now(), period.end()).toMillis() < 3_000) {
            Clocks.awaitPassed(period.end());
            period = invoicing.periods().periodOf(Instant.now());
        }
        return period;
    }

    @Test
    @DisplayName("closing a period twice, or from two callers at once, writes one set of invoices that reconcile with earnings")
    void closeOnceAndReconcile() {
        InvoicingService invoicing = platform.services().invoicing();
        long before = Sql.meteredCalls(db);
        BillingPeriod period = periodWithTimeLeft(invoicing);
        int ok = call("bill-payg", "digits_mlp", 3) + call("bill-monthly", "diabetes_regressor", 4);
        awaitMetered(before + ok);
        JsonArray drafts = api.get("/api/v1/invoices", consumer).bodyAsJsonObject().getJsonArray("items");
        assertEquals("draft", drafts.getJsonObject(0).getString("status"));
        Clocks.awaitPassed(period.end().plusMillis(200));
        assertProblem(api.get("/api/v1/invoices", null), 401);

        var both = Api.await(Future.all(invoicing.closePeriod(period), invoicing.closePeriod(period)));
        int written = both.<Integer>resultAt(0) + both.<Integer>resultAt(1);
        assertEquals(0, (int) Api.await(invoicing.closePeriod(period)), "closing again changes nothing");
        long invoices = Sql.count(db, "SELECT count(*) FROM invoices WHERE period_start = ?",
                period.start().atOffset(ZoneOffset.UTC));
        assertEquals(written, invoices);
        assertTrue(invoices >= 1);

        JsonObject invoice = api.get("/api/v1/invoices", consumer).bodyAsJsonObject().getJsonArray("items").stream()
                .map(JsonObject.class::cast).filter(i -> "final".equals(i.getString("status"))
                        && i.getJsonObject("period").getString("start").equals(period.start().toString()))
                .findFirst().orElseThrow();
        long sumLines = invoice.getJsonArray("lines").stream().mapToLong(l -> ((JsonObject) l).getLong("amountMinor")).sum();
        assertEquals(invoice.getLong("totalMinor"), sumLines, "total = sum of lines");
        int paygLines = 0;
        for (Object o : invoice.getJsonArray("lines")) {
            JsonObject l = (JsonObject) o;
            assertEquals(l.getLong("feeMinor") + l.getLong("usageMinor"), l.getLong("amountMinor"), l.encode());
            if ("pay_as_you_go".equals(l.getString("kind"))) {
                paygLines++;
                assertEquals(l.getLong("calls"), l.getLong("amountMinor"), "1000 minor per 1000 calls: one per call");
            }
        }
        assertTrue(paygLines >= 1, "the pay-as-you-go calls of this period make a line: " + invoice.encode());
        assertProblem(api.get("/api/v1/invoices/" + invoice.getString("id"), publisher), 404);
        assertProblem(api.get("/api/v1/invoices/" + invoice.getString("id") + ".csv", publisher), 404);
        JsonObject detail = api.get("/api/v1/invoices/" + invoice.getString("id"), consumer).bodyAsJsonObject();
        assertEquals(invoice, detail);
        String csv = api.get("/api/v1/invoices/" + invoice.getString("id") + ".csv", consumer).bodyAsString();
        assertTrue(csv.lines().anyMatch(line -> line.endsWith("," + invoice.getLong("totalMinor"))), csv);

        long invoiceTotal = Sql.count(db, "SELECT coalesce(sum(total_minor), 0) FROM invoices WHERE period_start = ?",
                period.start().atOffset(ZoneOffset.UTC));
        JsonObject earnings = api.get("/api/v1/earnings?period=" + period.start(), publisher).bodyAsJsonObject();
        assertEquals("final", earnings.getString("status"));
        long gross = 0;
        for (Object o : earnings.getJsonArray("models")) {
            JsonObject m = (JsonObject) o;
            assertEquals(m.getLong("grossMinor"), m.getLong("feeMinor") + m.getLong("payoutMinor"), "fee + payout = gross");
            gross += m.getLong("grossMinor");
        }
        assertEquals(invoiceTotal, gross, "publishers' gross = invoices' total");
        assertTrue(api.get("/api/v1/earnings", consumer).bodyAsJsonObject().getJsonArray("models").isEmpty(),
                "a tenant that publishes nothing earns nothing");
        assertEquals(1, invoice.getInteger("number"), "invoices are numbered per tenant from 1");
    }
}
