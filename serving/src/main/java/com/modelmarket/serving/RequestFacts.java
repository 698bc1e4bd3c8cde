package com.modelmarket.serving;

/**
 * Tenant-agnostic facts about one finished request, for metering and logs. Times are nanoseconds.
 *
 * @param model the model version asked for
 * @param outcome how it ended
 * @param items items (first-dimension entries) the request carried
 * @param queueNanos time between arrival (or the end of a cold start) and its batch starting
 * @param computeNanos its share of the batch's compute time: batch time x items / batch items; 0
 *     if it never ran
 * @param batchSize items in the batch it ran in (0 if it never ran)
 * @param batchId the batch it ran in, unique per engine (0 if it never ran)
 * @param coldStart whether it waited for the model to be loaded
 * @param loadNanos how long it waited for that load (0 when warm)
 */
public record RequestFacts(
        ModelKey model,
        RequestOutcome outcome,
        int items,
        long queueNanos,
        long computeNanos,
        int batchSize,
        long batchId,
        boolean coldStart,
        long loadNanos) {

    /** Facts of a request refused before it reached a queue. */
    public static RequestFacts refused(ModelKey model, RequestOutcome outcome, int items) {
        return new RequestFacts(model, outcome, items, 0, 0, 0, 0, false, 0);
    }
}
