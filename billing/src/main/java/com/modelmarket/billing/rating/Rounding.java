package com.modelmarket.billing.rating;

import java.math.BigInteger;

/**
 * The one rounding rule of billing.
 *
 * <p>Every quantity that is not already whole is written as an exact fraction of integers,
 * {@code value × numerator / denominator}, evaluated with {@link BigInteger} (no overflow, no
 * floating point) and rounded <b>once, to the nearest whole unit, halves up</b>. The unit is the
 * minor unit for money (cents for USD) and one call for call counts. All inputs are non-negative,
 * so "half up" and "half away from zero" are the same thing. Sums of rounded amounts (invoice
 * totals, publisher totals) are exact and never rounded again.
 *
 * <p>Where it is applied: the prorated fee {@code fee × d / D}, the prorated allowance
 * {@code includedCalls × d / D}, the usage amount {@code calls × pricePer1000 / 1000}, each per
 * invoice line; and the platform fee {@code gross × basisPoints / 10000}, per model.
 */
public final class Rounding {

    private Rounding() {
    }

    /**
     * {@code value × numerator / denominator}, rounded to the nearest integer with halves up.
     *
     * @throws IllegalArgumentException if an argument is negative or the denominator is zero
     * @throws ArithmeticException if the result does not fit in a long
     */
    public static long multiplyDivideHalfUp(long value, long numerator, long denominator) {
        if (value < 0 || numerator < 0 || denominator <= 0) {
            throw new IllegalArgumentException(
                    "need value, numerator >= 0 and denominator > 0, got " + value + " × " + numerator + " / " + denominator);
        }
        BigInteger product = BigInteger.valueOf(value).multiply(BigInteger.valueOf(numerator));
        BigInteger divisor = BigInteger.valueOf(denominator);
        BigInteger[] quotientAndRemainder = product.divideAndRemainder(divisor);
        BigInteger quotient = quotientAndRemainder[0];
        if (quotientAndRemainder[1].shiftLeft(1).compareTo(divisor) >= 0) {
            quotient = quotient.add(BigInteger.ONE);
        }
        return quotient.longValueExact();
    }
}
