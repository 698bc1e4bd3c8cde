package com.modelmarket.serving.engine;

import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.RequestFacts;
import com.modelmarket.serving.RequestOutcome;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The engine's request listeners: each finished request's facts go to all of them, once. */
final class RequestListeners implements Consumer<RequestFacts> {

    private static final Logger LOG = LoggerFactory.getLogger(RequestListeners.class);

    private final List<Consumer<RequestFacts>> listeners = new CopyOnWriteArrayList<>();

    void add(Consumer<RequestFacts> listener) {
        listeners.add(listener);
    }

    /** Publishes one request's facts; a listener that throws is logged and does not stop the others. */
    @Override
    public void accept(RequestFacts facts) {
        for (Consumer<RequestFacts> listener : listeners) {
            try {
                listener.accept(facts);
            } catch (RuntimeException e) {
                LOG.warn("request listener failed", e);
            }
        }
    }

    /** Fails a request refused before any queue, on its context, after publishing its facts. */
    <T> Future<T> refuse(Context context, ModelKey key, RequestOutcome outcome, RuntimeException e) {
        Promise<T> promise = Promise.promise();
        context.runOnContext(x -> {
            accept(RequestFacts.refused(key, outcome, 0));
            promise.fail(e);
        });
        return promise.future();
    }
}
