package com.modelmarket.marketplace.subscriptions;

import java.util.Locale;

/** Where a subscription stands: active (entitles calls) until cancelled, which is final. */
public enum SubscriptionStatus {
    ACTIVE, CANCELLED;

    /** The name stored in the database and shown in the API. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    static SubscriptionStatus fromDb(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}
