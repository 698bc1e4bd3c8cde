package com.modelmarket.billing.metering;

import io.vertx.core.Future;
import java.util.List;

/**
 * Where {@link UsageMeter} delivers usage: the usage tables in production.
 *
 * <p>Contract: {@link #write} stores every commit of the batch or fails, all or nothing; it is
 * <b>idempotent by {@link UsageCommit#id()}</b>: a commit written again (when the journal is
 * replayed after a write that timed out but did land, for example) is ignored, and the meter never
 * splits a commit or merges two, so that holds for every record. Commits marked
 * {@linkplain UsageCommit#legacy() legacy} (read back from a journal of an earlier format) are
 * deduplicated by {@link UsageRecord#requestId()} instead. The meter calls it with whole commits
 * of at most {@code batchSize} records (or one larger commit) and does not wait for more than one
 * call at a time, although a call it gave up on after its write timeout may still be running. The
 * list must not be modified.
 */
public interface UsageSink {

    Future<Void> write(List<UsageCommit> commits);
}
