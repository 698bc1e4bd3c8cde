package com.modelmarket.billing.metering;

import java.time.Instant;
import java.util.UUID;

/** Usage records for tests. */
final class UsageRecords {

    private static final UUID TENANT = UUID.fromString("00000000-0000-0000-0000-00000000000a");
    private static final UUID MODEL = UUID.fromString("00000000-0000-0000-0000-0000000000c1");
    private static final UUID VERSION = UUID.fromString("00000000-0000-0000-0000-0000000000d1");
    private static final UUID KEY = UUID.fromString("00000000-0000-0000-0000-0000000000e1");
    private static final UUID SUBSCRIPTION = UUID.fromString("00000000-0000-0000-0000-0000000000f1");

    private UsageRecords() {
    }

    static UsageRecord usage(String requestId) {
        boolean own = requestId.hashCode() % 3 == 0;
        return new UsageRecord(requestId, TENANT, own ? null : KEY, own ? null : SUBSCRIPTION, MODEL, VERSION,
                1 + Math.abs(requestId.hashCode() % 8), 1_234_567L, UsageOutcome.SUCCESS,
                Instant.parse("2025-04-11T10:00:00.123456789Z"));
    }
}
