package com.modelmarket.billing;

import java.util.Currency;
import java.util.Objects;
import java.util.UUID;

/**
 * A publisher's price for one model. The catalog stores it; rating reads it.
 *
 * <p>Amounts are integer minor units of {@code currency}. Validation: every number is non-negative,
 * the currency is a known ISO 4217 code, and the fields that do not apply to the {@link PlanType}
 * are zero:
 * <ul>
 *   <li>FREE: {@code includedCalls} is the monthly allowance (a hard cap); fee and price are zero.</li>
 *   <li>PAY_AS_YOU_GO: only {@code pricePer1000Minor}; fee and included calls are zero.</li>
 *   <li>MONTHLY: fee, included calls and overage price all apply.</li>
 * </ul>
 * {@code rateLimitPerMinute} applies to every type; zero means no per-minute limit. {@code training}
 * prices an algorithm's training jobs ({@link TrainingPrice}): a FREE plan charges nothing for them
 * (its {@code includedMinutes} is a cap), a PAY_AS_YOU_GO plan includes no minutes.
 */
public record PricePlan(
        UUID planId,
        UUID modelId,
        UUID publisherTenantId,
        PlanType type,
        String currency,
        long monthlyFeeMinor,
        long includedCalls,
        long pricePer1000Minor,
        int rateLimitPerMinute,
        TrainingPrice training) {

    /** A plan that prices calls only (a model's). */
    public PricePlan(UUID planId, UUID modelId, UUID publisherTenantId, PlanType type, String currency, long monthlyFeeMinor,
                     long includedCalls, long pricePer1000Minor, int rateLimitPerMinute) {
        this(planId, modelId, publisherTenantId, type, currency, monthlyFeeMinor, includedCalls, pricePer1000Minor,
                rateLimitPerMinute, TrainingPrice.NONE);
    }

    public PricePlan {
        Objects.requireNonNull(training, "training");
        Objects.requireNonNull(planId, "planId");
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(publisherTenantId, "publisherTenantId");
        Objects.requireNonNull(type, "type");
        requireIsoCurrency(currency);
        requireNonNegative("monthlyFeeMinor", monthlyFeeMinor);
        requireNonNegative("includedCalls", includedCalls);
        requireNonNegative("pricePer1000Minor", pricePer1000Minor);
        requireNonNegative("rateLimitPerMinute", rateLimitPerMinute);
        switch (type) {
            case FREE -> {
                requireZero(type, "monthlyFeeMinor", monthlyFeeMinor);
                requireZero(type, "pricePer1000Minor", pricePer1000Minor);
                requireZero(type, "training.perJobMinor", training.perJobMinor());
                requireZero(type, "training.perMinuteMinor", training.perMinuteMinor());
            }
            case PAY_AS_YOU_GO -> {
                requireZero(type, "monthlyFeeMinor", monthlyFeeMinor);
                requireZero(type, "includedCalls", includedCalls);
                requireZero(type, "training.includedMinutes", training.includedMinutes());
            }
            case MONTHLY -> {
                // every field applies
            }
        }
    }

    public Money monthlyFee() {
        return new Money(monthlyFeeMinor, currency);
    }

    public Money pricePer1000() {
        return new Money(pricePer1000Minor, currency);
    }

    private static void requireIsoCurrency(String currency) {
        Objects.requireNonNull(currency, "currency");
        try {
            if (!Currency.getInstance(currency).getCurrencyCode().equals(currency)) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("currency must be an ISO 4217 code such as USD, got '" + currency + "'");
        }
    }

    private static void requireNonNegative(String field, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(field + " must not be negative, got " + value);
        }
    }

    private static void requireZero(PlanType type, String field, long value) {
        if (value != 0) {
            throw new IllegalArgumentException(field + " does not apply to " + type + " plans and must be 0, got " + value);
        }
    }
}
