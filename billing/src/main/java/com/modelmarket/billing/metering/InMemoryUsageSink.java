package com.modelmarket.billing.metering;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link UsageSink} in memory, for tests and development: counts each commit id once (legacy
 * commits once per request id) like the real one, and can be switched to fail or to hang to
 * simulate a database outage. {@link #countedCount()} is what a bill would count;
 * {@link #uniqueCount()} the distinct request ids among them, so the two differ only if a record
 * was counted twice.
 */
public final class InMemoryUsageSink implements UsageSink {

    /** How the sink answers {@link #write}. */
    public enum Mode {
        /** Store the batch and succeed. */
        UP,
        /** Fail at once, storing nothing. */
        FAILING,
        /** Never answer, storing nothing (a database that stopped responding). */
        HANGING
    }

    private final Map<String, UsageRecord> byRequestId = new ConcurrentHashMap<>();
    private final Set<UUID> commits = ConcurrentHashMap.newKeySet();
    private final AtomicLong counted = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong failedWrites = new AtomicLong();
    private final AtomicLong successfulWrites = new AtomicLong();
    private volatile Mode mode = Mode.UP;

    @Override
    public Future<Void> write(List<UsageCommit> batch) {
        switch (mode) {
            case FAILING -> {
                failedWrites.incrementAndGet();
                return Future.failedFuture(new IllegalStateException("usage sink is down"));
            }
            case HANGING -> {
                failedWrites.incrementAndGet();
                return Promise.<Void>promise().future();
            }
            default -> {
                synchronized (this) {
                    for (UsageCommit commit : batch) {
                        received.addAndGet(commit.size());
                        if (commit.legacy()) {
                            for (UsageRecord record : commit.records()) {
                                if (byRequestId.putIfAbsent(record.requestId(), record) == null) {
                                    counted.incrementAndGet();
                                }
                            }
                        } else if (commits.add(commit.id())) {
                            counted.addAndGet(commit.size());
                            for (UsageRecord record : commit.records()) {
                                byRequestId.putIfAbsent(record.requestId(), record);
                            }
                        }
                    }
                }
                successfulWrites.incrementAndGet();
                return Future.succeededFuture();
            }
        }
    }

    public InMemoryUsageSink mode(Mode newMode) {
        mode = newMode;
        return this;
    }

    public Mode mode() {
        return mode;
    }

    /** Distinct records stored (by request id). */
    public int uniqueCount() {
        return byRequestId.size();
    }

    /** Records counted: each commit once, each legacy record once. Equals {@link #uniqueCount()} unless a record was counted twice. */
    public long countedCount() {
        return counted.get();
    }

    /** Records received in successful writes, duplicates included. */
    public long receivedCount() {
        return received.get();
    }

    public long successfulWrites() {
        return successfulWrites.get();
    }

    public long failedWrites() {
        return failedWrites.get();
    }

    public boolean contains(String requestId) {
        return byRequestId.containsKey(requestId);
    }

    public List<UsageRecord> records() {
        Collection<UsageRecord> values = byRequestId.values();
        return new ArrayList<>(values);
    }
}
