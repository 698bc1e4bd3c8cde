package com.modelmarket.billing.rating;

import com.modelmarket.billing.Money;
import com.modelmarket.billing.PricePlan;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Currency;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Turns a tenant's subscription segments and their usage into draft invoices. Pure functions:
 * no clock, no I/O, same input, same output.
 *
 * <p>For a segment active on d of the period's D days ({@link BillingPeriod#daysTouched}), with
 * {@code calls} calls, and the rounding of {@link Rounding} (exact fraction, halves up):
 * <pre>
 *   FREE           fee = 0   included = round(includedCalls × d / D)   quantity = 0                         usage = 0
 *   PAY_AS_YOU_GO  fee = 0   included = 0                              quantity = calls                     usage = round(quantity × pricePer1000 / 1000)
 *   MONTHLY        fee = round(monthlyFee × d / D)
 *                            included = round(includedCalls × d / D)   quantity = max(0, calls − included)  usage = round(quantity × pricePer1000 / 1000)
 *   amount = fee + usage + training
 * </pre>
 * Training (algorithm plans, {@link com.modelmarket.billing.TrainingPrice}), for {@code jobs}
 * succeeded jobs with {@code ms} milliseconds of training compute in the segment:
 * <pre>
 *   FREE           training = 0                       (includedMinutes is a cap, enforced when a job starts)
 *   PAY_AS_YOU_GO  training = jobs × perJob + round(ms × perMinute / 60,000)
 *   MONTHLY        includedMs = round(includedMinutes × 60,000 × d / D)
 *                  training = jobs × perJob + round(max(0, ms − includedMs) × perMinute / 60,000)
 * </pre>
 * <b>Currencies:</b> one invoice per currency. A tenant subscribed to models priced in USD and in
 * EUR gets two invoices for the period, each with its own total; amounts are never converted.
 */
public final class Rater {

    private static final Comparator<InvoiceLine> LINE_ORDER = Comparator
            .comparing(InvoiceLine::activeFrom)
            .thenComparing(InvoiceLine::subscriptionId);

    private Rater() {
    }

    /**
     * Rates one tenant for one period.
     *
     * @param segments the tenant's segments; those that do not overlap the period are ignored.
     *     Segments of the same subscription must not overlap each other.
     * @param calls billable calls per segment, aggregated by the caller: calls with outcome SUCCESS
     *     whose {@code occurredAt} lies in the period and in {@code [activeFrom, activeTo)} of the
     *     segment. A segment without an entry made no calls. Every key must be one of the segments
     *     and overlap the period.
     * @return one invoice per currency, ordered by currency code; empty when no segment overlaps the period
     */
    public static List<Invoice> rate(UUID tenantId, BillingPeriod period, List<SubscriptionSegment> segments,
            Map<SubscriptionSegment, Long> calls) {
        return rate(tenantId, period, segments, calls, Map.of());
    }

    /** Training jobs in a segment: how many succeeded, and their training compute. */
    public record TrainingUsage(long jobs, long computeMillis) {

        public static final TrainingUsage NONE = new TrainingUsage(0, 0);

        public TrainingUsage {
            if (jobs < 0 || computeMillis < 0) {
                throw new IllegalArgumentException("training usage must not be negative");
            }
        }
    }

    /**
     * As {@link #rate(UUID, BillingPeriod, List, Map)}, with the training jobs of each segment (jobs
     * that succeeded in the period and in the segment); a segment without an entry trained nothing.
     */
    public static List<Invoice> rate(UUID tenantId, BillingPeriod period, List<SubscriptionSegment> segments,
            Map<SubscriptionSegment, Long> calls, Map<SubscriptionSegment, TrainingUsage> training) {
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(period, "period");
        requireConsistent(tenantId, segments);
        Set<SubscriptionSegment> rated = new HashSet<>();
        Map<String, List<InvoiceLine>> linesByCurrency = new TreeMap<>();
        for (SubscriptionSegment segment : segments) {
            if (period.daysTouched(segment.activeFrom(), segment.activeTo()) == 0) {
                continue;
            }
            rated.add(segment);
            InvoiceLine line = rateSegment(period, segment, calls.getOrDefault(segment, 0L),
                    training.getOrDefault(segment, TrainingUsage.NONE));
            linesByCurrency.computeIfAbsent(line.currency(), c -> new ArrayList<>()).add(line);
        }
        Set<SubscriptionSegment> given = new HashSet<>(calls.keySet());
        given.addAll(training.keySet());
        for (SubscriptionSegment segment : given) {
            if (!rated.contains(segment)) {
                throw new IllegalArgumentException("usage given for a segment that is not active in " + period + ": " + segment);
            }
        }
        List<Invoice> invoices = new ArrayList<>();
        linesByCurrency.forEach((currency, lines) -> {
            lines.sort(LINE_ORDER);
            invoices.add(Invoice.of(tenantId, period, currency, lines));
        });
        return invoices;
    }

    /**
     * Rates one segment over the period with the formulas in the class comment.
     *
     * @throws IllegalArgumentException if the segment does not overlap the period or calls is negative
     */
    public static InvoiceLine rateSegment(BillingPeriod period, SubscriptionSegment segment, long calls) {
        return rateSegment(period, segment, calls, TrainingUsage.NONE);
    }

    /** As {@link #rateSegment(BillingPeriod, SubscriptionSegment, long)}, with the segment's training jobs. */
    public static InvoiceLine rateSegment(BillingPeriod period, SubscriptionSegment segment, long calls, TrainingUsage training) {
        if (calls < 0) {
            throw new IllegalArgumentException("calls must not be negative, got " + calls);
        }
        int d = period.daysTouched(segment.activeFrom(), segment.activeTo());
        if (d == 0) {
            throw new IllegalArgumentException("segment is not active in " + period + ": " + segment);
        }
        int periodDays = period.days();
        PricePlan plan = segment.plan();
        String currency = plan.currency();
        long fee = 0;
        long included = 0;
        long quantity = 0;
        switch (plan.type()) {
            case FREE -> included = Rounding.multiplyDivideHalfUp(plan.includedCalls(), d, periodDays);
            case PAY_AS_YOU_GO -> quantity = calls;
            case MONTHLY -> {
                fee = Rounding.multiplyDivideHalfUp(plan.monthlyFeeMinor(), d, periodDays);
                included = Rounding.multiplyDivideHalfUp(plan.includedCalls(), d, periodDays);
                quantity = Math.max(0, calls - included);
            }
        }
        long usage = Rounding.multiplyDivideHalfUp(quantity, plan.pricePer1000Minor(), 1000);
        Money feeMoney = new Money(fee, currency);
        Money usageMoney = new Money(usage, currency);
        InvoiceLine.TrainingCharge trainingCharge = chargeTraining(plan, training, d, periodDays);
        return new InvoiceLine(
                segment.subscriptionId(),
                plan.planId(),
                plan.modelId(),
                plan.publisherTenantId(),
                plan.type(),
                describe(plan, d, periodDays, calls, included, quantity) + describeTraining(trainingCharge),
                segment.activeFrom().isAfter(period.start()) ? segment.activeFrom() : period.start(),
                segment.activeTo() == null || segment.activeTo().isAfter(period.end()) ? period.end() : segment.activeTo(),
                d,
                periodDays,
                calls,
                included,
                quantity,
                plan.pricePer1000(),
                feeMoney,
                usageMoney,
                trainingCharge,
                feeMoney.plus(usageMoney).plus(trainingCharge.amount()));
    }

    private static InvoiceLine.TrainingCharge chargeTraining(PricePlan plan, TrainingUsage t, int d, int periodDays) {
        String currency = plan.currency();
        if (t.jobs() == 0 && t.computeMillis() == 0) {
            return InvoiceLine.TrainingCharge.none(currency);
        }
        long included = 0;
        long charged = 0;
        long amount = 0;
        switch (plan.type()) {
            case FREE -> included = t.computeMillis(); // within the cap, which was enforced when the jobs started
            case PAY_AS_YOU_GO -> charged = t.computeMillis();
            case MONTHLY -> {
                included = Math.min(t.computeMillis(),
                        Rounding.multiplyDivideHalfUp(Math.multiplyExact(plan.training().includedMinutes(), 60_000L), d, periodDays));
                charged = t.computeMillis() - included;
            }
        }
        if (plan.type() != com.modelmarket.billing.PlanType.FREE) {
            amount = Math.addExact(Math.multiplyExact(t.jobs(), plan.training().perJobMinor()),
                    Rounding.multiplyDivideHalfUp(charged, plan.training().perMinuteMinor(), 60_000));
        }
        return new InvoiceLine.TrainingCharge(t.jobs(), t.computeMillis(), included, charged, new Money(amount, currency));
    }

    private static String describeTraining(InvoiceLine.TrainingCharge t) {
        if (t.jobs() == 0 && t.computeMillis() == 0) {
            return "";
        }
        return "; " + grouped(t.jobs()) + " training job" + (t.jobs() == 1 ? "" : "s") + ", "
                + BigDecimal.valueOf(t.computeMillis(), 3).divide(BigDecimal.valueOf(60), 2, java.math.RoundingMode.HALF_UP)
                        .toPlainString() + " min of training compute";
    }

    private static void requireConsistent(UUID tenantId, List<SubscriptionSegment> segments) {
        Map<UUID, List<SubscriptionSegment>> bySubscription = new HashMap<>();
        for (SubscriptionSegment segment : segments) {
            if (!segment.tenantId().equals(tenantId)) {
                throw new IllegalArgumentException("segment of tenant " + segment.tenantId() + " on the invoice of " + tenantId);
            }
            List<SubscriptionSegment> earlier = bySubscription.computeIfAbsent(segment.subscriptionId(), id -> new ArrayList<>());
            for (SubscriptionSegment other : earlier) {
                if (segment.overlaps(other)) {
                    throw new IllegalArgumentException("overlapping segments of subscription " + segment.subscriptionId()
                            + ": " + other + " and " + segment);
                }
            }
            earlier.add(segment);
        }
    }

    private static String describe(PricePlan plan, int d, int periodDays, long calls, long included, long quantity) {
        String days = d + "/" + periodDays + " days";
        String per1000 = format(plan.pricePer1000()) + " per 1,000";
        return switch (plan.type()) {
            case FREE -> "Free plan, " + days + ": " + grouped(calls) + " calls, " + grouped(included) + " included";
            case PAY_AS_YOU_GO -> "Pay as you go, " + days + ": " + grouped(calls) + " calls at " + per1000;
            case MONTHLY -> "Monthly plan, " + days + " of " + format(plan.monthlyFee()) + " a month: " + grouped(calls)
                    + " calls, " + grouped(included) + " included, " + grouped(quantity) + " over at " + per1000;
        };
    }

    /** 1234567 as "1,234,567", independent of the default locale. */
    private static String grouped(long value) {
        StringBuilder digits = new StringBuilder(Long.toString(value));
        for (int i = digits.length() - 3; i > (value < 0 ? 1 : 0); i -= 3) {
            digits.insert(i, ',');
        }
        return digits.toString();
    }

    /** {@code 1234 USD} as {@code 12.34 USD}, with the currency's usual number of decimals. */
    static String format(Money money) {
        int digits = Math.max(0, Currency.getInstance(money.currency()).getDefaultFractionDigits());
        return BigDecimal.valueOf(money.minorUnits(), digits).toPlainString() + " " + money.currency();
    }
}
