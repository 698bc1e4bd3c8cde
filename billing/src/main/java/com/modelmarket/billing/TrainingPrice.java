package com.modelmarket.billing;

/**
 * What an algorithm's plan charges for training jobs, in minor units of the plan's currency:
 * {@code perJobMinor} for each job that succeeded, plus {@code perMinuteMinor} per minute of
 * training compute (charged per millisecond, exactly). {@code includedMinutes} is, on a FREE plan,
 * the monthly training-minute cap (a hard cap: no job starts once it is used up); on a MONTHLY
 * plan, the minutes included every month (prorated like included calls); PAY_AS_YOU_GO plans
 * include none. {@code maxJobSeconds} bounds one job's run time under the plan (0: the plan sets
 * no bound of its own); it is a term, not a price, and rating ignores it. {@link #NONE} for models,
 * whose plans price calls only.
 */
public record TrainingPrice(long perJobMinor, long perMinuteMinor, long includedMinutes, long maxJobSeconds) {

    public static final TrainingPrice NONE = new TrainingPrice(0, 0, 0, 0);

    public TrainingPrice {
        if (perJobMinor < 0 || perMinuteMinor < 0 || includedMinutes < 0 || maxJobSeconds < 0) {
            throw new IllegalArgumentException("training prices, included minutes and the job time limit must not be negative");
        }
    }

    /** Terms without a job time limit of the plan's own. */
    public TrainingPrice(long perJobMinor, long perMinuteMinor, long includedMinutes) {
        this(perJobMinor, perMinuteMinor, includedMinutes, 0);
    }
}
