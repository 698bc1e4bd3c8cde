package com.modelmarket.serving;

import com.modelmarket.serving.model.Tensor;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The outputs of a request (its own items only) and the facts of how it was served.
 *
 * @param node the serving node that answered, when the call crossed the cluster ({@code
 *     cluster.ServingNode}); {@code null} when this process's own engine answered
 */
public record InferenceResult(List<Tensor> outputs, RequestFacts facts, String node) {

    public InferenceResult {
        outputs = List.copyOf(outputs);
    }

    /** A result of this process's own engine. */
    public InferenceResult(List<Tensor> outputs, RequestFacts facts) {
        this(outputs, facts, null);
    }

    public Tensor output(String name) {
        return outputs.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new NoSuchElementException("no output " + name));
    }
}
