package com.modelmarket.serving.cluster;

import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.InvalidInputException;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelNotLoadedException;
import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.OverloadedException;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.time.Duration;

/**
 * The engine's typed failures across the event bus: a serving node fails a message with a code per
 * exception type ({@link #reply}); the API node turns the code back into the same type ({@link
 * #toServing}), so the one failure handler maps a remote failure exactly as a local one. Failures of
 * the bus itself become {@link OverloadedException} (503 with Retry-After): the caller may try again.
 */
final class ServingFailures {

    static final int OVERLOADED = 1;
    static final int DEADLINE_QUEUED = 2;
    static final int DEADLINE_STARTED = 3;
    static final int FAILED = 4;
    static final int INVALID = 5;
    static final int NOT_LOADED = 6;
    static final int REJECTED = 7;
    static final int OTHER = 8;
    /** The node has drained and is stopping: the call was not run (nothing of it reached the engine). */
    static final int NOT_RUN = 9;

    private static final Duration RETRY = Duration.ofSeconds(1);

    private ServingFailures() {
    }

    static void reply(Message<?> msg, Throwable err) {
        if (err instanceof OverloadedException) {
            msg.fail(OVERLOADED, err.getMessage());
        } else if (err instanceof DeadlineExceededException d) {
            msg.fail(d.started() ? DEADLINE_STARTED : DEADLINE_QUEUED, err.getMessage());
        } else if (err instanceof InferenceFailedException) {
            msg.fail(FAILED, err.getMessage());
        } else if (err instanceof InvalidInputException) {
            msg.fail(INVALID, err.getMessage());
        } else if (err instanceof ModelNotLoadedException) {
            msg.fail(NOT_LOADED, err.getMessage());
        } else if (err instanceof ModelRejectedException r) {
            msg.fail(REJECTED, r.check().name() + "|" + r.reason());
        } else {
            msg.fail(OTHER, String.valueOf(err.getMessage()));
        }
    }

    /**
     * Whether the call certainly never reached a serving node's engine (so another node may take it):
     * no consumer at the address, or a node that had drained and turned it away unrun.
     */
    static boolean neverDelivered(Throwable err) {
        return err instanceof ReplyException r && (r.failureType() == ReplyFailure.NO_HANDLERS
                || r.failureType() == ReplyFailure.RECIPIENT_FAILURE && r.failureCode() == NOT_RUN);
    }

    static Throwable toServing(Throwable err, ModelKey key, String node) {
        if (!(err instanceof ReplyException r)) {
            return err;
        }
        String m = r.getMessage();
        if (r.failureType() == ReplyFailure.TIMEOUT) {
            // the node may have run it: not retried; the caller sees 504 like a local deadline
            return new DeadlineExceededException("serving node " + node + " did not answer in time", false, r);
        }
        if (r.failureType() == ReplyFailure.NO_HANDLERS) {
            return new OverloadedException("no serving node is reachable for " + key, RETRY, r);
        }
        return switch (r.failureCode()) {
            case OVERLOADED, NOT_RUN -> new OverloadedException(m, RETRY);
            case DEADLINE_QUEUED -> new DeadlineExceededException(m, false);
            case DEADLINE_STARTED -> new DeadlineExceededException(m, true);
            case FAILED -> new InferenceFailedException(m, null);
            case INVALID -> new InvalidInputException(m);
            case NOT_LOADED -> new ModelNotLoadedException(key);
            case REJECTED -> {
                int bar = m.indexOf('|');
                yield new ModelRejectedException(ModelRejectedException.Check.valueOf(m.substring(0, bar)), m.substring(bar + 1));
            }
            default -> new OverloadedException("serving node " + node + " failed: " + m, RETRY);
        };
    }
}
