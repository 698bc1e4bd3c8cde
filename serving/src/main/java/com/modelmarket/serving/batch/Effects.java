package com.modelmarket.serving.batch;

import io.vertx.core.Context;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a locked section of the {@link Batcher} decided, done once the lock is released: first
 * start batches and workers, then answer callers with one task per caller context. So workers and
 * the event loop never wait on each other's wake-ups.
 */
final class Effects {

    private static final Logger LOG = LoggerFactory.getLogger(Effects.class);

    private final List<Runnable> actions = new ArrayList<>(2);
    private final Map<Context, List<Runnable>> answers = new IdentityHashMap<>();

    void act(Runnable action) {
        actions.add(action);
    }

    void answer(Context context, Runnable answer) {
        answers.computeIfAbsent(context, c -> new ArrayList<>(4)).add(answer);
    }

    void run() {
        actions.forEach(Runnable::run);
        answers.forEach((context, list) -> context.runOnContext(v -> {
            for (Runnable answer : list) {
                try {
                    answer.run();
                } catch (RuntimeException e) {
                    LOG.warn("answering a request failed", e);
                }
            }
        }));
    }
}
