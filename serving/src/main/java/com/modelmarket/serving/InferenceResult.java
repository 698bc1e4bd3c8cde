package com.modelmarket.serving;

import com.modelmarket.serving.model.Tensor;
import java.util.List;
import java.util.NoSuchElementException;

/** The outputs of a request (its own items only) and the facts of how it was served. */
public record InferenceResult(List<Tensor> outputs, RequestFacts facts) {

    public InferenceResult {
        outputs = List.copyOf(outputs);
    }

    public Tensor output(String name) {
        return outputs.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new NoSuchElementException("no output " + name));
    }
}
