package com.modelmarket.marketplace.invoicing;

import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.errors.BadRequestException;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.marketplace.http.JsonBody;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.UUID;

/** {@code /api/v1/usage}, {@code /api/v1/quotas}, {@code /api/v1/invoices}, {@code /api/v1/earnings}: the caller's tenant only. */
public final class InvoicingRoutes {

    private final InvoicingService invoicing;
    private final UsageQueries usage;
    private final AccessTokenHandler authenticated;

    public InvoicingRoutes(InvoicingService invoicing, UsageQueries usage, AccessTokenHandler authenticated) {
        this.invoicing = invoicing;
        this.usage = usage;
        this.authenticated = authenticated;
    }

    public void mount(Router router) {
        router.get("/api/v1/usage/summary").handler(authenticated).handler(ctx -> summary(ctx, false));
        router.get("/api/v1/usage/summary.csv").handler(authenticated).handler(ctx -> summary(ctx, true));
        router.get("/api/v1/quotas").handler(authenticated).handler(this::quotas);
        router.get("/api/v1/invoices").handler(authenticated).handler(this::invoices);
        router.get("/api/v1/invoices/:id").handler(authenticated).handler(this::invoice);
        router.get("/api/v1/earnings").handler(authenticated).handler(this::earnings);
    }

    private void summary(RoutingContext ctx, boolean csv) {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        LocalDate from = day(ctx, "from", today.withDayOfMonth(1));
        LocalDate to = day(ctx, "to", today);
        if (to.isBefore(from) || from.plusDays(366).isBefore(to)) {
            throw new BadRequestException("from must not be after to, and the range is at most 366 days");
        }
        Principal caller = Principal.of(ctx);
        usage.summary(caller, from, to).compose(items -> usage.training(caller, from, to).map(training -> {
            if (!csv) {
                Responses.json(ctx, 200, new JsonObject().put("items", items).put("training", training));
                return null;
            }
            StringBuilder out = new StringBuilder("day,model,version,plan,api_key,calls,billable_calls,items,compute_ms\n");
            for (Object o : items) {
                JsonObject r = (JsonObject) o;
                out.append(r.getString("day")).append(',').append(Csv.cell(r.getString("model"))).append(',')
                        .append(Csv.cell(r.getString("version"))).append(',').append(Csv.cell(r.getString("plan"))).append(',')
                        .append(Csv.cell(r.getString("apiKey"))).append(',').append(r.getLong("calls")).append(',')
                        .append(r.getLong("billableCalls")).append(',').append(r.getLong("items")).append(',')
                        .append(r.getLong("computeMillis")).append('\n');
            }
            Csv.send(ctx, "usage-" + from + "-" + to + ".csv", out.toString());
            return null;
        })).onFailure(ctx::fail);
    }

    private void quotas(RoutingContext ctx) {
        usage.quotas(Principal.of(ctx)).onSuccess(items -> Responses.items(ctx, items)).onFailure(ctx::fail);
    }

    private void invoices(RoutingContext ctx) {
        Principal p = Principal.of(ctx);
        invoicing.drafts(p).compose(drafts -> invoicing.invoices(p).map(finals -> {
            JsonArray items = new JsonArray();
            drafts.forEach(items::add);
            finals.forEach(items::add);
            return items;
        })).onSuccess(items -> Responses.items(ctx, items)).onFailure(ctx::fail);
    }

    private void invoice(RoutingContext ctx) {
        String raw = ctx.pathParam("id");
        boolean csv = raw.endsWith(".csv");
        UUID id;
        try {
            id = UUID.fromString(csv ? raw.substring(0, raw.length() - 4) : raw);
        } catch (IllegalArgumentException e) {
            throw new NotFoundException("Invoice");
        }
        invoicing.invoice(Principal.of(ctx), id).onSuccess(inv -> {
            if (!csv) {
                Responses.json(ctx, 200, inv);
                return;
            }
            StringBuilder out = new StringBuilder("invoice,number,period_start,period_end,currency,line,description,model,"
                    + "quantity,unit_price_per_1000_minor,fee_minor,usage_minor,amount_minor\n");
            for (Object o : inv.getJsonArray("lines")) {
                JsonObject l = (JsonObject) o;
                out.append(inv.getString("id")).append(',').append(inv.getInteger("number")).append(',')
                        .append(inv.getJsonObject("period").getString("start")).append(',')
                        .append(inv.getJsonObject("period").getString("end")).append(',').append(inv.getString("currency"))
                        .append(',').append(l.getValue("lineNo")).append(',').append(Csv.cell(l.getString("description")))
                        .append(',').append(Csv.cell(l.getString("model"))).append(',').append(l.getValue("quantity"))
                        .append(',').append(l.getValue("unitPricePer1000Minor")).append(',').append(l.getValue("feeMinor"))
                        .append(',').append(l.getValue("usageMinor")).append(',').append(l.getValue("amountMinor")).append('\n');
            }
            out.append(inv.getString("id")).append(',').append(inv.getInteger("number")).append(",,,")
                    .append(inv.getString("currency")).append(",total,,,,,,,").append(inv.getLong("totalMinor")).append('\n');
            Csv.send(ctx, "invoice-" + inv.getInteger("number") + ".csv", out.toString());
        }).onFailure(ctx::fail);
    }

    private void earnings(RoutingContext ctx) {
        String period = ctx.queryParams().get("period");
        Instant start = period == null ? null : JsonBody.instant(period).orElseThrow(() -> new BadRequestException(
                "period must be the ISO-8601 instant a billing period starts at, from 1970 to 9999"));
        invoicing.earnings(Principal.of(ctx), start).onSuccess(e -> Responses.json(ctx, 200, e)).onFailure(ctx::fail);
    }

    private static LocalDate day(RoutingContext ctx, String name, LocalDate fallback) {
        List<String> values = ctx.queryParam(name);
        if (values.isEmpty()) {
            return fallback;
        }
        try {
            LocalDate day = LocalDate.parse(values.get(0));
            if (day.getYear() < 1970 || day.getYear() > 9999) {
                throw new DateTimeParseException("out of range", values.get(0), 0);
            }
            return day;
        } catch (DateTimeParseException e) {
            throw new BadRequestException(name + " must be a date from 1970-01-01 to 9999-12-31, such as 2026-11-01");
        }
    }
}
