package com.modelmarket.marketplace.util;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * At most one call per key at a time: callers that ask while a call for their key is under way
 * share its result instead of starting their own. It keeps a cache expiry under load from sending
 * every waiting request to the database at once. Each caller gets its answer on its own Vert.x
 * context, whichever context ran the call.
 */
public final class SingleFlight<K, V> {

    private final Map<K, Future<V>> running = new ConcurrentHashMap<>();

    public Future<V> run(K key, Supplier<Future<V>> call) {
        Promise<V> mine = Promise.promise();
        Future<V> other = running.putIfAbsent(key, mine.future());
        if (other != null) {
            return onCallersContext(other);
        }
        Future<V> started;
        try {
            started = call.get();
        } catch (RuntimeException e) {
            started = Future.failedFuture(e);
        }
        started.onComplete(ar -> {
            running.remove(key, mine.future());
            mine.handle(ar);
        });
        return onCallersContext(mine.future());
    }

    /** Calls under way (for tests). */
    public int inFlight() {
        return running.size();
    }

    private static <V> Future<V> onCallersContext(Future<V> shared) {
        Context here = Vertx.currentContext();
        if (here == null) {
            return shared;
        }
        if (shared.isComplete()) { // its callbacks run right here, on the caller's thread
            return shared;
        }
        Promise<V> hop = Promise.promise();
        shared.onComplete(ar -> here.runOnContext(v -> hop.handle(ar)));
        return hop.future();
    }
}
