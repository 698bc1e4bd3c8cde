package com.modelmarket.marketplace.invoicing;

import com.modelmarket.billing.Money;
import com.modelmarket.billing.rating.BillingPeriod;
import com.modelmarket.billing.rating.Invoice;
import com.modelmarket.billing.rating.InvoiceLine;
import com.modelmarket.billing.rating.ModelRevenue;
import com.modelmarket.billing.rating.Rater;
import com.modelmarket.billing.rating.RevenueShare;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.BadRequestException;
import com.modelmarket.marketplace.errors.ConflictException;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.NotFoundException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rating and invoicing: a running period shows a draft computed from the plan segments and the
 * metered usage; closing a period writes final, numbered, immutable invoices once (a period row
 * and an advisory lock make closing idempotent and safe from two callers); publishers' earnings
 * split each model's gross into the platform fee and the payout.
 */
public final class InvoicingService {

    private static final Logger LOG = LoggerFactory.getLogger(InvoicingService.class);
    private static final long CLOSE_LOCK = 0x6d6d62696c6cL; // "mmbill"

    private final Pool pool;
    private final Periods periods;
    private final int platformFeeBasisPoints;
    private final InvoiceRepository repository = new InvoiceRepository();

    public InvoicingService(Pool pool, Periods periods, int platformFeeBasisPoints) {
        this.pool = pool;
        this.periods = periods;
        this.platformFeeBasisPoints = platformFeeBasisPoints;
    }

    public Periods periods() {
        return periods;
    }

    /** Closes a period that has ended: writes its final invoices, once. Returns how many were written. */
    public Future<Integer> closePeriod(BillingPeriod period) {
        if (period.end().isAfter(Instant.now())) {
            return Future.failedFuture(new ConflictException("The period " + period + " has not ended"));
        }
        // every tenant's invoices at once: the system scope
        return TenantScope.system(pool, tx -> repository.lockClosing(tx, CLOSE_LOCK)
                .compose(v -> repository.markClosed(tx, period))
                .compose(first -> {
                    if (!first) {
                        return Future.succeededFuture(0);
                    }
                    // rating every tenant and building the rows is seconds of CPU at 20,000 tenants: a worker's
                    return repository.ratingInput(tx, period, null)
                            .compose(input -> offEventLoop(() -> InvoiceRepository.rows(rateAll(period, input))))
                            .compose(rows -> repository.insertAll(tx, rows).map(x -> rows.heads().size()));
                }))
                .onSuccess(n -> {
                    if (n > 0) {
                        LOG.info("Closed billing period {}: {} invoice(s)", period, n);
                    }
                });
    }

    /** Closes the last period if it ended at least {@code grace} ago; for the periodic timer. */
    public Future<Integer> closeEndedPeriods(java.time.Duration grace) {
        BillingPeriod last = periods.periodOf(Instant.now().minus(grace));
        BillingPeriod previous = periods.periodOf(last.start().minusSeconds(1));
        BillingPeriod target = last.end().isAfter(Instant.now().minus(grace)) ? previous : last;
        return repository.isClosed(pool, target).compose(closed -> closed ? Future.succeededFuture(0) : closePeriod(target));
    }

    /** The running period's draft invoices for the caller's tenant: amounts to date. */
    public Future<List<JsonObject>> drafts(Principal caller) {
        requireBillingReader(caller);
        BillingPeriod period = periods.periodOf(Instant.now());
        return TenantScope.tenant(pool, caller.tenantId(), c -> repository.ratingInput(c, period, caller.tenantId()))
                .map(input -> rateAll(period, input).stream().map(InvoicingService::draftJson).toList());
    }

    public Future<List<JsonObject>> invoices(Principal caller) {
        requireBillingReader(caller);
        return TenantScope.tenant(pool, caller.tenantId(), c -> repository.list(c, caller.tenantId()));
    }

    public Future<JsonObject> invoice(Principal caller, UUID id) {
        requireBillingReader(caller);
        return TenantScope.tenant(pool, caller.tenantId(), c -> repository.find(c, caller.tenantId(), id)).compose(found -> found.isEmpty()
                ? Future.failedFuture(new NotFoundException("Invoice")) : Future.succeededFuture(found.get(0)));
    }

    /**
     * A publisher's earnings for a period: per model and currency, gross, platform fee and payout.
     * A closed period reads its final invoices; the running one rates every subscriber's draft.
     */
    public Future<JsonObject> earnings(Principal caller, Instant periodStart) {
        if (!caller.role().canPublish()) {
            return Future.failedFuture(new ForbiddenException("Only owners, admins and publishers see earnings"));
        }
        BillingPeriod period;
        try {
            period = periodStart == null ? periods.periodOf(Instant.now()) : periods.startingAt(periodStart);
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(new BadRequestException(e.getMessage()));
        }
        // A publisher's gross sits on its subscribers' invoices: a cross-tenant read (system scope),
        // every statement filtered by the publisher.
        return repository.isClosed(pool, period).compose(closed -> closed
                ? TenantScope.system(pool, c -> repository.grossByModel(c, caller.tenantId(), period))
                        .map(gross -> earningsJson(period, "final", fromGross(gross)))
                : TenantScope.system(pool, c -> repository.ratingInput(c, period, null, caller.tenantId()))
                        .compose(input -> offEventLoop(() -> earningsJson(period, "draft",
                                RevenueShare.split(rateAll(period, input), platformFeeBasisPoints).stream()
                                        .filter(p -> p.publisherTenantId().equals(caller.tenantId()))
                                        .flatMap(p -> p.models().stream()).toList()))));
    }

    /**
     * Runs CPU-bound rating on a worker thread of the current context (a large publisher's draft earnings
     * rate thousands of subscribers' segments; a close every tenant's), and continues on the context.
     */
    private static <T> Future<T> offEventLoop(java.util.concurrent.Callable<T> work) {
        io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
        if (context == null) {
            try {
                return Future.succeededFuture(work.call());
            } catch (Exception e) {
                return Future.failedFuture(e);
            }
        }
        return context.executeBlocking(work, false);
    }

    /** The same split as {@link RevenueShare}, applied to the gross stored on final invoices. */
    private List<ModelRevenue> fromGross(Map<String, Money> gross) {
        List<ModelRevenue> out = new ArrayList<>();
        gross.forEach((key, money) -> {
            Money fee = RevenueShare.fee(money, platformFeeBasisPoints);
            out.add(new ModelRevenue(UUID.fromString(key.substring(0, key.indexOf('/'))), money, fee, money.minus(fee)));
        });
        return out;
    }

    private JsonObject earningsJson(BillingPeriod period, String status, List<ModelRevenue> revenues) {
        JsonArray models = new JsonArray();
        for (ModelRevenue m : revenues) {
            models.add(new JsonObject().put("modelId", m.modelId().toString()).put("currency", m.gross().currency())
                    .put("grossMinor", m.gross().minorUnits()).put("feeMinor", m.fee().minorUnits())
                    .put("payoutMinor", m.payout().minorUnits()));
        }
        return new JsonObject().put("period", periodJson(period)).put("status", status)
                .put("platformFeeBasisPoints", platformFeeBasisPoints).put("models", models);
    }

    private List<Invoice> rateAll(BillingPeriod period, InvoiceRepository.RatingInput input) {
        Map<UUID, List<com.modelmarket.billing.rating.SubscriptionSegment>> byTenant = new java.util.TreeMap<>();
        input.segments().forEach(s -> byTenant.computeIfAbsent(s.tenantId(), t -> new ArrayList<>()).add(s));
        List<Invoice> invoices = new ArrayList<>();
        byTenant.forEach((tenant, segments) -> {
            Map<com.modelmarket.billing.rating.SubscriptionSegment, Long> calls = new java.util.HashMap<>();
            Map<com.modelmarket.billing.rating.SubscriptionSegment, Rater.TrainingUsage> training = new java.util.HashMap<>();
            segments.forEach(s -> {
                calls.put(s, input.calls().getOrDefault(s, 0L));
                if (input.training().containsKey(s)) {
                    training.put(s, input.training().get(s));
                }
            });
            invoices.addAll(Rater.rate(tenant, period, segments, calls, training));
        });
        return invoices;
    }

    private static JsonObject draftJson(Invoice invoice) {
        JsonArray lines = new JsonArray();
        int n = 0;
        for (InvoiceLine l : invoice.lines()) {
            lines.add(new JsonObject().put("lineNo", ++n).put("description", l.description())
                    .put("kind", l.kind().name().toLowerCase(java.util.Locale.ROOT)).put("modelId", l.modelId().toString())
                    .put("subscriptionId", l.subscriptionId().toString()).put("activeDays", l.activeDays())
                    .put("periodDays", l.periodDays()).put("calls", l.calls()).put("includedCalls", l.includedCalls())
                    .put("quantity", l.quantity()).put("unitPricePer1000Minor", l.unitPricePer1000().minorUnits())
                    .put("feeMinor", l.fee().minorUnits()).put("usageMinor", l.usageAmount().minorUnits())
                    .put("trainingJobs", l.training().jobs()).put("trainingComputeMillis", l.training().computeMillis())
                    .put("trainingMinor", l.training().amount().minorUnits())
                    .put("amountMinor", l.amount().minorUnits()));
        }
        return new JsonObject().put("id", null).put("number", null).put("status", "draft")
                .put("period", periodJson(invoice.period())).put("currency", invoice.currency())
                .put("totalMinor", invoice.total().minorUnits()).put("lines", lines);
    }

    static JsonObject periodJson(BillingPeriod period) {
        return new JsonObject().put("start", period.start().toString()).put("end", period.end().toString());
    }

    private static void requireBillingReader(Principal caller) {
        if (!caller.role().canManageTenant()) {
            throw new ForbiddenException("Only owners and admins see invoices");
        }
    }
}
