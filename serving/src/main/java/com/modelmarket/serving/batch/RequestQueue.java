package com.modelmarket.serving.batch;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/**
 * The requests of a {@link Batcher} waiting for a worker, oldest first, and the items they carry.
 * Requests leave it in a batch, expired, or failed all at once; each one that leaves otherwise
 * than in a batch is handed to the caller, who answers it. Guarded by the batcher's lock.
 */
final class RequestQueue {

    private final ArrayDeque<PendingRequest> queue = new ArrayDeque<>();
    private int items;

    boolean isEmpty() {
        return queue.isEmpty();
    }

    int size() {
        return queue.size();
    }

    /** Items waiting (not requests). */
    int items() {
        return items;
    }

    void add(PendingRequest r) {
        queue.addLast(r);
        items += r.items();
    }

    /** The model is in memory now: requests that waited for it were cold starts, loaded at {@code now}. */
    void modelLoaded(long now) {
        for (PendingRequest r : queue) {
            if (r.cold && r.loadedNanos == 0) {
                r.loadedNanos = now;
            }
        }
    }

    /**
     * Fills {@code members} with the oldest live request and the later ones of the same input
     * signature that fit beside it within {@code cap} items; removes expired requests met on the
     * way, handing each to {@code expired}. Returns the item count.
     */
    int collect(List<PendingRequest> members, int cap, long now, Consumer<PendingRequest> expired) {
        int count = 0;
        Iterator<PendingRequest> it = queue.iterator();
        while (it.hasNext()) {
            PendingRequest r = it.next();
            if (r.deadlineNanos <= now) {
                it.remove();
                items -= r.items();
                expired.accept(r);
                continue;
            }
            if (members.isEmpty()) {
                members.add(r);
                count = r.items();
            } else if (r.signature().equals(members.get(0).signature()) && count + r.items() <= cap) {
                members.add(r);
                count += r.items();
            }
            if (count >= cap) {
                break;
            }
        }
        return count;
    }

    /** Removes the members of a batch just formed (no longer QUEUED) and their items. */
    void removeBatch(int batchItems) {
        queue.removeIf(r -> r.state != PendingRequest.State.QUEUED);
        items -= batchItems;
    }

    /** Removes every request past its deadline, handing each to {@code expired}; returns the earliest deadline left. */
    long expireDue(long now, Consumer<PendingRequest> expired) {
        long next = Long.MAX_VALUE;
        for (Iterator<PendingRequest> it = queue.iterator(); it.hasNext(); ) {
            PendingRequest r = it.next();
            if (r.deadlineNanos <= now) {
                it.remove();
                items -= r.items();
                expired.accept(r);
            } else {
                next = Math.min(next, r.deadlineNanos);
            }
        }
        return next;
    }

    /** Empties the queue, handing every request to {@code failed}. */
    void clear(Consumer<PendingRequest> failed) {
        queue.forEach(failed);
        queue.clear();
        items = 0;
    }
}
