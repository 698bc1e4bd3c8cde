package com.modelmarket.marketplace.metering;

import java.time.Instant;

/**
 * The time grain of the usage rollups ({@code metering.rollup-seconds}, a minute by default): calls
 * are added up per bucket of this many seconds, counted from the epoch (migration V9). Sums over a
 * range are exact when the range starts and ends on bucket boundaries, so every boundary the
 * platform bills by is one: UTC days and months (the bucket divides a day), test periods (their
 * day is a multiple of it, checked at start) and subscription segments (rounded by
 * {@link #floorSql}/{@link #ceilSql} when they are written).
 */
public record UsageBuckets(int seconds) {

    public static final UsageBuckets MINUTES = new UsageBuckets(60);

    public UsageBuckets {
        if (seconds < 1 || seconds > 3_600 || 86_400 % seconds != 0) {
            throw new IllegalArgumentException("metering.rollup-seconds must divide a day and be 1..3600 seconds, not " + seconds);
        }
    }

    /** The start of the bucket {@code at} falls in, as epoch seconds. */
    public long floor(Instant at) {
        return Math.floorDiv(at.getEpochSecond(), seconds) * (long) seconds;
    }

    /** SQL for the start of the bucket a timestamptz expression falls in (the bucket is a checked integer, so inlining it is safe). */
    public String floorSql(String timestamp) {
        return "to_timestamp(floor(extract(epoch FROM " + timestamp + ") / " + seconds + ") * " + seconds + ")";
    }

    /** SQL for the end of the bucket a timestamptz expression falls in (the start of the next one). */
    public String ceilSql(String timestamp) {
        return "to_timestamp((floor(extract(epoch FROM " + timestamp + ") / " + seconds + ") + 1) * " + seconds + ")";
    }
}
