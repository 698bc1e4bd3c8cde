package com.modelmarket.serving;

import com.modelmarket.serving.model.Tensor;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One call: its input tensors (each with the same first, "items", dimension), the outputs wanted
 * (empty: all), and an optional timeout (null: the model's default).
 */
public record InferenceRequest(List<Tensor> inputs, List<String> outputs, Duration timeout) {

    public InferenceRequest {
        inputs = List.copyOf(Objects.requireNonNull(inputs, "inputs"));
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
        if (timeout != null && timeout.isNegative()) {
            throw new IllegalArgumentException("negative timeout");
        }
    }

    public static InferenceRequest of(Tensor... inputs) {
        return new InferenceRequest(List.of(inputs), List.of(), null);
    }

    public InferenceRequest withTimeout(Duration newTimeout) {
        return new InferenceRequest(inputs, outputs, newTimeout);
    }

    public InferenceRequest withOutputs(String... names) {
        return new InferenceRequest(inputs, List.of(names), timeout);
    }
}
