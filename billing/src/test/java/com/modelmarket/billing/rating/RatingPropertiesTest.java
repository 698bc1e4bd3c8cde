package com.modelmarket.billing.rating;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.billing.Money;
import com.modelmarket.billing.PlanType;
import com.modelmarket.billing.PricePlan;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Property-based tests of rating and revenue share over random plans, subscriptions, plan changes
 * and usage. Each case has its own seed; a failure names it. Replay one case with
 * {@code mvn -pl billing test -Dtest=RatingPropertiesTest -Dbilling.seed=<seed> -Dbilling.cases=1}.
 *
 * <p>The expected values come from an independent oracle: days touched by walking the period day
 * by day, amounts with {@link BigDecimal} and {@link RoundingMode#HALF_UP}.
 */
class RatingPropertiesTest {

    private static final String[] CURRENCIES = {"USD", "USD", "USD", "EUR", "JPY"};

    @Test
    @DisplayName("invoices, lines and revenue shares match their formulas and reconcile to the minor unit")
    void ratingReconciles() {
        long firstSeed = Long.getLong("billing.seed", System.nanoTime());
        int cases = Integer.getInteger("billing.cases", 3_000);
        for (int i = 0; i < cases; i++) {
            long seed = firstSeed + i;
            try {
                checkCase(new Random(seed));
            } catch (Throwable failure) {
                throw new AssertionError("rating property failed for seed " + seed + "; replay with -Dbilling.seed=" + seed
                        + " -Dbilling.cases=1", failure);
            }
        }
    }

    private record Model(UUID id, UUID publisher, String currency) {
    }

    private static void checkCase(Random random) {
        BillingPeriod period = randomPeriod(random);
        List<UUID> publishers = new ArrayList<>();
        for (int i = 1 + random.nextInt(3); i > 0; i--) {
            publishers.add(uuid(random));
        }
        List<Model> models = new ArrayList<>();
        for (int i = 1 + random.nextInt(6); i > 0; i--) {
            models.add(new Model(uuid(random), publishers.get(random.nextInt(publishers.size())),
                    CURRENCIES[random.nextInt(CURRENCIES.length)]));
        }
        List<Invoice> invoices = new ArrayList<>();
        int tenants = 1 + random.nextInt(5);
        for (int t = 0; t < tenants; t++) {
            UUID tenant = uuid(random);
            List<SubscriptionSegment> segments = new ArrayList<>();
            for (int s = random.nextInt(6); s > 0; s--) {
                segments.addAll(randomSubscription(random, period, tenant, models.get(random.nextInt(models.size()))));
            }
            Map<SubscriptionSegment, Long> calls = new HashMap<>();
            for (SubscriptionSegment segment : segments) {
                if (oracleDays(period, segment) > 0 && random.nextInt(5) > 0) {
                    calls.put(segment, randomCalls(random));
                }
            }
            Map<SubscriptionSegment, Rater.TrainingUsage> training = new HashMap<>();
            for (SubscriptionSegment segment : segments) {
                if (oracleDays(period, segment) > 0 && random.nextInt(3) == 0) {
                    training.put(segment, new Rater.TrainingUsage(random.nextInt(20), randomMillis(random)));
                }
            }
            List<Invoice> tenantInvoices = Rater.rate(tenant, period, segments, calls, training);
            checkInvoices(period, tenant, segments, calls, training, tenantInvoices);
            invoices.addAll(tenantInvoices);
        }
        int basisPoints = switch (random.nextInt(5)) {
            case 0 -> 0;
            case 1 -> 10_000;
            default -> random.nextInt(10_001);
        };
        checkRevenueShare(invoices, RevenueShare.split(invoices, basisPoints), basisPoints);
    }

    private static void checkInvoices(BillingPeriod period, UUID tenant, List<SubscriptionSegment> segments,
            Map<SubscriptionSegment, Long> calls, Map<SubscriptionSegment, Rater.TrainingUsage> training, List<Invoice> invoices) {
        Map<String, Integer> expectedLines = new TreeMap<>();
        for (SubscriptionSegment segment : segments) {
            if (oracleDays(period, segment) > 0) {
                expectedLines.merge(segment.plan().currency(), 1, Integer::sum);
            }
        }
        assertEquals(List.copyOf(expectedLines.keySet()), invoices.stream().map(Invoice::currency).toList(),
                "one invoice per currency, in order");
        for (Invoice invoice : invoices) {
            assertEquals(tenant, invoice.tenantId());
            assertEquals(expectedLines.get(invoice.currency()), invoice.lines().size(), "one line per active segment");
            long sum = 0;
            for (InvoiceLine line : invoice.lines()) {
                assertEquals(invoice.currency(), line.currency());
                sum += line.amount().minorUnits();
                SubscriptionSegment segment = segments.stream()
                        .filter(s -> s.subscriptionId().equals(line.subscriptionId()) && s.plan().planId().equals(line.planId())
                                && clip(period, s.activeFrom()).equals(line.activeFrom()))
                        .findFirst().orElseThrow();
                checkLine(period, segment, calls.getOrDefault(segment, 0L),
                        training.getOrDefault(segment, Rater.TrainingUsage.NONE), line);
            }
            assertEquals(sum, invoice.total().minorUnits(), "invoice total is the sum of its lines");
        }
    }

    private static void checkLine(BillingPeriod period, SubscriptionSegment segment, long calls, Rater.TrainingUsage training,
            InvoiceLine line) {
        PricePlan plan = segment.plan();
        long d = oracleDays(period, segment);
        long bigD = period.days();
        long fee = 0;
        long included = 0;
        long quantity = 0;
        switch (plan.type()) {
            case FREE -> included = halfUp(BigDecimal.valueOf(plan.includedCalls()).multiply(BigDecimal.valueOf(d)), bigD);
            case PAY_AS_YOU_GO -> quantity = calls;
            case MONTHLY -> {
                fee = halfUp(BigDecimal.valueOf(plan.monthlyFeeMinor()).multiply(BigDecimal.valueOf(d)), bigD);
                included = halfUp(BigDecimal.valueOf(plan.includedCalls()).multiply(BigDecimal.valueOf(d)), bigD);
                quantity = Math.max(0, calls - included);
            }
        }
        long usage = halfUp(BigDecimal.valueOf(quantity).multiply(BigDecimal.valueOf(plan.pricePer1000Minor())), 1000);
        assertEquals(plan.type(), line.kind());
        assertEquals(d, line.activeDays(), "days touched");
        assertEquals(bigD, line.periodDays());
        assertEquals(calls, line.calls());
        assertEquals(included, line.includedCalls(), "included calls");
        assertEquals(quantity, line.quantity(), "charged calls");
        assertEquals(new Money(fee, plan.currency()), line.fee(), "prorated fee");
        assertEquals(new Money(usage, plan.currency()), line.usageAmount(), "usage amount");
        // training: jobs × per job + the minutes beyond the prorated included ones at the per-minute price
        long includedMs = switch (plan.type()) {
            case FREE -> training.computeMillis();
            case PAY_AS_YOU_GO -> 0;
            case MONTHLY -> Math.min(training.computeMillis(), halfUp(BigDecimal.valueOf(plan.training().includedMinutes())
                    .multiply(BigDecimal.valueOf(60_000)).multiply(BigDecimal.valueOf(d)), bigD));
        };
        long chargedMs = training.computeMillis() - includedMs;
        long trainingMinor = plan.type() == PlanType.FREE ? 0
                : BigDecimal.valueOf(training.jobs()).multiply(BigDecimal.valueOf(plan.training().perJobMinor()))
                        .add(BigDecimal.valueOf(halfUp(BigDecimal.valueOf(chargedMs)
                                .multiply(BigDecimal.valueOf(plan.training().perMinuteMinor())), 60_000))).longValueExact();
        assertEquals(training.jobs(), line.training().jobs(), "training jobs");
        assertEquals(training.computeMillis(), line.training().computeMillis(), "training compute");
        assertEquals(includedMs, line.training().includedMillis(), "included training compute");
        assertEquals(chargedMs, line.training().chargedMillis(), "charged training compute");
        assertEquals(new Money(trainingMinor, plan.currency()), line.training().amount(), "training amount");
        assertEquals(new Money(fee + usage + trainingMinor, plan.currency()), line.amount(), "line amount");
        assertEquals(plan.pricePer1000(), line.unitPricePer1000());
        assertEquals(plan.modelId(), line.modelId());
        assertEquals(plan.publisherTenantId(), line.publisherTenantId());
        if (plan.type() == PlanType.FREE) {
            assertEquals(0, line.amount().minorUnits(), "free usage is free");
        }
    }

    private static void checkRevenueShare(List<Invoice> invoices, List<PublisherRevenue> split, int basisPoints) {
        Map<String, Long> invoiced = new TreeMap<>();
        Map<String, Long> modelGross = new HashMap<>();
        for (Invoice invoice : invoices) {
            invoiced.merge(invoice.currency(), invoice.total().minorUnits(), Long::sum);
            for (InvoiceLine line : invoice.lines()) {
                modelGross.merge(line.publisherTenantId() + "/" + line.modelId() + "/" + line.currency(),
                        line.amount().minorUnits(), Long::sum);
            }
        }
        Map<String, Long> gross = new TreeMap<>();
        Map<String, Long> feesAndPayouts = new TreeMap<>();
        int modelsSeen = 0;
        for (PublisherRevenue publisher : split) {
            long sumGross = 0;
            long sumFee = 0;
            for (ModelRevenue model : publisher.models()) {
                modelsSeen++;
                long expectedGross = modelGross.get(publisher.publisherTenantId() + "/" + model.modelId() + "/" + publisher.currency());
                assertEquals(expectedGross, model.gross().minorUnits(), "model gross is the sum of its lines");
                long expectedFee = halfUp(BigDecimal.valueOf(expectedGross).multiply(BigDecimal.valueOf(basisPoints)), 10_000);
                assertEquals(expectedFee, model.fee().minorUnits(), "platform fee");
                assertEquals(model.gross(), model.fee().plus(model.payout()), "fee + payout = gross per model");
                assertTrue(!model.payout().isNegative(), "payout is never negative");
                sumGross += model.gross().minorUnits();
                sumFee += model.fee().minorUnits();
            }
            assertEquals(sumGross, publisher.gross().minorUnits());
            assertEquals(sumFee, publisher.fee().minorUnits());
            assertEquals(publisher.gross(), publisher.fee().plus(publisher.payout()), "fee + payout = gross per publisher");
            gross.merge(publisher.currency(), publisher.gross().minorUnits(), Long::sum);
            feesAndPayouts.merge(publisher.currency(), publisher.fee().minorUnits() + publisher.payout().minorUnits(), Long::sum);
        }
        assertEquals(modelGross.size(), modelsSeen, "every invoiced model appears once");
        assertEquals(invoiced, gross, "publishers' gross equals the invoices' total, per currency");
        assertEquals(invoiced, feesAndPayouts, "fees plus payouts equal the invoices' total, per currency");
    }

    // ---- generators ----

    private static BillingPeriod randomPeriod(Random random) {
        if (random.nextInt(10) < 7) {
            return BillingPeriod.month(YearMonth.of(2020 + random.nextInt(12), 1 + random.nextInt(12)));
        }
        Duration day = random.nextBoolean() ? Duration.ofSeconds(1 + random.nextInt(3_600)) : Duration.ofMillis(1 + random.nextInt(5_000));
        return BillingPeriod.ofDays(Instant.ofEpochSecond(1_500_000_000L + random.nextInt(500_000_000)), day, 1 + random.nextInt(40));
    }

    /** One subscription: a chain of 1..4 segments, each plan change at a random instant (on a day boundary or not). */
    private static List<SubscriptionSegment> randomSubscription(Random random, BillingPeriod period, UUID tenant, Model model) {
        UUID subscription = uuid(random);
        long length = Duration.between(period.start(), period.end()).toMillis();
        Instant from = randomInstant(random, period, period.start().minusMillis(length / 2), length * 3 / 2);
        List<SubscriptionSegment> segments = new ArrayList<>();
        int count = 1 + random.nextInt(4);
        for (int i = 0; i < count; i++) {
            boolean last = i == count - 1;
            Instant to = last && random.nextBoolean() ? null : randomInstant(random, period, from.plusMillis(1), length / 2 + 1);
            segments.add(new SubscriptionSegment(subscription, tenant, randomPlan(random, model), from, to));
            if (to == null) {
                break;
            }
            from = to;
        }
        return segments;
    }

    /** An instant in {@code [origin, origin + spanMillis)}, a third of the time snapped to a day boundary. */
    private static Instant randomInstant(Random random, BillingPeriod period, Instant origin, long spanMillis) {
        Instant instant = origin.plusMillis((long) (random.nextDouble() * Math.max(1, spanMillis)));
        if (random.nextInt(3) == 0) {
            long days = Math.floorDiv(Duration.between(period.start(), instant).toMillis(), period.day().toMillis());
            Instant snapped = period.start().plus(period.day().multipliedBy(days));
            if (snapped.isAfter(origin) || snapped.equals(origin)) {
                return snapped;
            }
        }
        return instant;
    }

    private static PricePlan randomPlan(Random random, Model model) {
        PlanType type = PlanType.values()[random.nextInt(PlanType.values().length)];
        long fee = type == PlanType.MONTHLY ? amount(random) : 0;
        long included = type == PlanType.PAY_AS_YOU_GO ? 0 : randomCalls(random);
        long per1000 = type == PlanType.FREE ? 0 : amount(random);
        com.modelmarket.billing.TrainingPrice training = random.nextBoolean() ? com.modelmarket.billing.TrainingPrice.NONE
                : new com.modelmarket.billing.TrainingPrice(type == PlanType.FREE ? 0 : amount(random),
                        type == PlanType.FREE ? 0 : amount(random),
                        type == PlanType.PAY_AS_YOU_GO ? 0 : random.nextInt(10_000));
        return new PricePlan(uuid(random), model.id(), model.publisher(), type, model.currency(), fee, included, per1000,
                random.nextInt(1_000), training);
    }

    /** Training compute of a segment: none, seconds, hours, or months of it. */
    private static long randomMillis(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> random.nextInt(3);
            case 1 -> random.nextInt(120_000);
            case 2 -> random.nextInt(36_000_000);
            default -> (long) random.nextInt(1_000_000) * 60_000L;
        };
    }

    /** Small amounts (where rounding shows) as often as large ones. */
    private static long amount(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> random.nextInt(10);
            case 1 -> random.nextInt(1_000);
            case 2 -> random.nextInt(100_000);
            default -> random.nextInt(1_000_000_000);
        };
    }

    private static long randomCalls(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> random.nextInt(3);
            case 1 -> random.nextInt(2_000);
            case 2 -> random.nextInt(1_000_000);
            default -> random.nextInt(1_000_000_000);
        };
    }

    private static UUID uuid(Random random) {
        return new UUID(random.nextLong(), random.nextLong());
    }

    // ---- oracle ----

    /** Days of the period that share an instant with the segment, found by walking the period. */
    private static long oracleDays(BillingPeriod period, SubscriptionSegment segment) {
        if (!segment.activeFrom().isBefore(period.end()) || (segment.activeTo() != null && !segment.activeTo().isAfter(period.start()))) {
            return 0;
        }
        long touched = 0;
        for (Instant dayStart = period.start(); dayStart.isBefore(period.end()); dayStart = dayStart.plus(period.day())) {
            Instant dayEnd = dayStart.plus(period.day());
            if (segment.activeFrom().isBefore(dayEnd) && (segment.activeTo() == null || segment.activeTo().isAfter(dayStart))) {
                touched++;
            }
        }
        return touched;
    }

    private static Instant clip(BillingPeriod period, Instant from) {
        return from.isAfter(period.start()) ? from : period.start();
    }

    private static long halfUp(BigDecimal numerator, long denominator) {
        return numerator.divide(BigDecimal.valueOf(denominator), 0, RoundingMode.HALF_UP).longValueExact();
    }
}
