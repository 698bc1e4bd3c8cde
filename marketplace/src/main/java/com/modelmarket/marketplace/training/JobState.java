package com.modelmarket.marketplace.training;

import java.util.Locale;

/** A training job's states: {@code queued → running → succeeded | failed | cancelled}; the last three are final. */
public enum JobState {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean finished() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    static JobState parse(String stored) {
        return valueOf(stored.toUpperCase(Locale.ROOT));
    }
}
