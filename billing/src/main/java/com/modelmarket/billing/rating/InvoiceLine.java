package com.modelmarket.billing.rating;

import com.modelmarket.billing.Money;
import com.modelmarket.billing.PlanType;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * One invoice line: one {@link SubscriptionSegment} rated over one {@link BillingPeriod}.
 * {@link Rater#rateSegment} documents how each number is computed.
 *
 * @param kind the plan type the segment was on
 * @param activeFrom the segment's start clipped to the period
 * @param activeTo the segment's end clipped to the period (exclusive)
 * @param activeDays d, the period days the segment touched
 * @param periodDays D, the days in the period
 * @param calls calls made in the segment
 * @param includedCalls the prorated allowance (0 for pay-as-you-go)
 * @param quantity the charged calls: overage for MONTHLY, all calls for PAY_AS_YOU_GO, 0 for FREE
 * @param unitPricePer1000 the price per 1,000 charged calls
 * @param fee the prorated flat fee (0 unless MONTHLY)
 * @param usageAmount the charge for {@code quantity} calls
 * @param training the segment's training jobs and what they cost ({@link TrainingCharge#NONE} for a model's)
 * @param amount {@code fee + usageAmount + training.amount}
 */
public record InvoiceLine(
        UUID subscriptionId,
        UUID planId,
        UUID modelId,
        UUID publisherTenantId,
        PlanType kind,
        String description,
        Instant activeFrom,
        Instant activeTo,
        int activeDays,
        int periodDays,
        long calls,
        long includedCalls,
        long quantity,
        Money unitPricePer1000,
        Money fee,
        Money usageAmount,
        TrainingCharge training,
        Money amount) {

    /**
     * The training part of a line: {@code jobs} succeeded jobs and {@code computeMillis} of their
     * training compute, {@code includedMillis} of it included (prorated, MONTHLY only),
     * {@code chargedMillis} beyond, and the {@code amount} charged for jobs and minutes.
     */
    public record TrainingCharge(long jobs, long computeMillis, long includedMillis, long chargedMillis, Money amount) {

        public static TrainingCharge none(String currency) {
            return new TrainingCharge(0, 0, 0, 0, new Money(0, currency));
        }
    }

    public InvoiceLine {
        Objects.requireNonNull(subscriptionId, "subscriptionId");
        Objects.requireNonNull(planId, "planId");
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(publisherTenantId, "publisherTenantId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(activeFrom, "activeFrom");
        Objects.requireNonNull(activeTo, "activeTo");
        Objects.requireNonNull(training, "training");
        if (!fee.plus(usageAmount).plus(training.amount()).equals(amount)) {
            throw new IllegalArgumentException("line amount " + amount + " is not fee " + fee + " + usage " + usageAmount
                    + " + training " + training.amount());
        }
        if (!unitPricePer1000.currency().equals(amount.currency())) {
            throw new IllegalArgumentException("unit price and amount differ in currency");
        }
    }

    public String currency() {
        return amount.currency();
    }
}
