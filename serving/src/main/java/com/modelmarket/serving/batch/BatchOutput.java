package com.modelmarket.serving.batch;

import com.modelmarket.serving.model.Tensor;
import java.util.List;

/** Merged outputs of one batch and the time the worker spent computing them. */
public record BatchOutput(List<Tensor> outputs, long computeNanos) {

    public BatchOutput {
        outputs = List.copyOf(outputs);
    }
}
