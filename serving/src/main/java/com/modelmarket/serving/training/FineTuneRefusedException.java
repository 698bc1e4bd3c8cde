package com.modelmarket.serving.training;

/**
 * Fine-tuning refused before it started: the model is not one that can be fine-tuned (not one FP32
 * {@code [-1, N]} input and one FP32 {@code [-1, K]} output), or the rows do not fit it.
 */
public final class FineTuneRefusedException extends TrainingException {

    public FineTuneRefusedException(String message) {
        super(message);
    }
}
