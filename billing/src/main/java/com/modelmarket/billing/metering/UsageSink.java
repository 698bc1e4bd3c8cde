package com.modelmarket.billing.metering;

import io.vertx.core.Future;
import java.util.List;

/**
 * Where {@link UsageMeter} delivers usage: the usage table in production.
 *
 * <p>Contract: {@link #write} stores every record of the batch or fails; it is <b>idempotent by
 * {@link UsageRecord#requestId()}</b> (a record written again, for example when the journal is
 * replayed after a write that timed out but did land, is ignored). The meter calls it with at most
 * {@code batchSize} records and does not wait for more than one call at a time, although a call it
 * gave up on after its write timeout may still be running. The list must not be modified.
 */
public interface UsageSink {

    Future<Void> write(List<UsageRecord> records);
}
