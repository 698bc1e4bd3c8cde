package com.modelmarket.serving.engine;

import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.InvalidInputException;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TensorSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Checks a request against a manifest and puts its inputs in the model's order. */
final class RequestCheck {

    private RequestCheck() {}

    /** The request's inputs in manifest order, all with the same item count. */
    static List<Tensor> orderedInputs(ModelManifest manifest, InferenceRequest request) {
        Map<String, Tensor> byName = new HashMap<>();
        for (Tensor t : request.inputs()) {
            if (byName.put(t.name(), t) != null) {
                throw new InvalidInputException("input " + t.name() + " given twice");
            }
        }
        List<Tensor> ordered = new ArrayList<>(manifest.inputs().size());
        long items = -1;
        for (TensorSpec spec : manifest.inputs()) {
            Tensor t = byName.remove(spec.name());
            if (t == null) {
                throw new InvalidInputException("missing input " + spec);
            }
            Optional<String> mismatch = spec.mismatch(t);
            if (mismatch.isPresent()) {
                throw new InvalidInputException("input " + mismatch.get());
            }
            if (items < 0) {
                items = t.items();
            } else if (t.items() != items) {
                throw new InvalidInputException(
                        "inputs disagree on the number of items (first dimension): " + items + " and "
                                + t.items() + " for " + t.name());
            }
            ordered.add(t);
        }
        if (!byName.isEmpty()) {
            throw new InvalidInputException("unknown input(s) " + byName.keySet() + "; the model takes "
                    + manifest.inputs());
        }
        if (items < 1 || items > Integer.MAX_VALUE) {
            throw new InvalidInputException("a request needs at least one item, got " + items);
        }
        for (String name : request.outputs()) {
            if (manifest.output(name).isEmpty()) {
                throw new InvalidInputException("unknown output " + name + "; the model returns "
                        + manifest.outputs());
            }
        }
        return ordered;
    }

    /**
     * When the request fails: its own timeout, else the version's default timeout, counted from now;
     * {@code Long.MAX_VALUE} for none.
     */
    static long deadlineNanos(InferenceRequest request, PoolConfig pool) {
        if (request.timeout() != null) {
            return System.nanoTime() + request.timeout().toNanos();
        }
        if (pool.defaultTimeout().isZero()) {
            return Long.MAX_VALUE;
        }
        return System.nanoTime() + pool.defaultTimeout().toNanos();
    }
}
