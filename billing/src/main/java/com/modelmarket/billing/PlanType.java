package com.modelmarket.billing;

/**
 * How a {@link PricePlan} charges. Which of the plan's numeric fields apply depends on the type;
 * the others must be zero.
 */
public enum PlanType {

    /** A monthly call allowance ({@code includedCalls}) enforced as a hard cap; price zero. */
    FREE,

    /** {@code pricePer1000Minor} for every 1,000 calls; no fee, nothing included. */
    PAY_AS_YOU_GO,

    /** A flat {@code monthlyFeeMinor} with {@code includedCalls}; calls beyond cost {@code pricePer1000Minor} per 1,000. */
    MONTHLY
}
