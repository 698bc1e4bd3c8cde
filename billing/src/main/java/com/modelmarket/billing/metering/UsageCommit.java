package com.modelmarket.billing.metering;

import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * The unit the meter hands to a {@link UsageSink}: the records of one group commit, under an id
 * drawn when the commit was first made and kept with it in the journal, so that every later
 * delivery of the same records (a write that timed out but landed, a replayed journal file) carries
 * the same id. Sinks count a commit id once; a commit is never split or merged with another.
 *
 * @param id unique per commit
 * @param records the commit's records, in the order they were accepted
 * @param legacy true for records read back from a journal of an earlier format, written before
 *     commits had ids: a sink must deduplicate those by {@link UsageRecord#requestId()} instead
 */
public record UsageCommit(UUID id, List<UsageRecord> records, boolean legacy) {

    public UsageCommit {
        Objects.requireNonNull(id, "id");
        records = List.copyOf(records);
    }

    /** A new commit under a fresh random id. */
    public static UsageCommit of(List<UsageRecord> records) {
        return new UsageCommit(UUID.randomUUID(), records, false);
    }

    public int size() {
        return records.size();
    }

    /** Records in all of {@code commits}. */
    public static int recordCount(List<UsageCommit> commits) {
        int n = 0;
        for (UsageCommit c : commits) {
            n += c.size();
        }
        return n;
    }
}
