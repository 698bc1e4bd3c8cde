package com.modelmarket.billing.metering;

/** How a metered request ended. Only {@link #SUCCESS} is billable. */
public enum UsageOutcome {

    /** The model ran and the caller got its answer. */
    SUCCESS,

    /** The request was invalid (bad input, unknown model version); the model did not run for it. */
    CLIENT_ERROR,

    /** Refused before running: rate limit, quota or a full queue. */
    REJECTED,

    /** The deadline passed before the answer was ready. */
    TIMEOUT,

    /** The platform failed while serving the request. */
    SERVER_ERROR;

    public boolean billable() {
        return this == SUCCESS;
    }
}
