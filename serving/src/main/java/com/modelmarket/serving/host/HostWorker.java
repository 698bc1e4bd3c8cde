package com.modelmarket.serving.host;

import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.batch.Batch;
import com.modelmarket.serving.batch.BatchOutput;
import com.modelmarket.serving.engine.BatchCalibration;
import com.modelmarket.serving.engine.ModelRuntime;
import com.modelmarket.serving.engine.OutputCheck;
import com.modelmarket.serving.model.Tensor;
import io.vertx.core.Future;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;

/** A batch worker whose forward passes run in the model's host. */
final class HostWorker implements ModelRuntime.Worker {
    private final HostedModel model;
    /** The model's handle as a frame writes it (Writer.string's bytes), encoded once rather than per batch. */
    private final byte[] handle;

    HostWorker(HostedModel model) {
        this.model = model;
        this.handle = model.handle().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public Future<BatchOutput> run(Batch batch) {
        long deadline = batch.latestDeadlineNanos();
        List<Tensor> inputs = batch.mergedInputs();
        int items = batch.items();
        return model.host().call(HostProtocol.RUN, () -> "a batch of " + items + " item(s) of " + model.key(),
                deadline, w -> w.bytes(handle).tensors(inputs)).map(frame -> {
                    try {
                        HostProtocol.Reader r = frame.reader();
                        if (frame.type() == HostProtocol.FAILED) {
                            r.string();
                            throw new InferenceFailedException(model.key() + ": the model failed on a batch of "
                                    + batch.items() + " item(s): " + r.string(), null);
                        }
                        if (frame.type() != HostProtocol.OUTPUT) {
                            throw new IOException("unexpected answer " + frame.type());
                        }
                        long nanos = r.i64();
                        List<Tensor> outputs = r.tensors();
                        OutputCheck.check(model.key(), model.manifest(), outputs);
                        return new BatchOutput(outputs, nanos);
                    } catch (IOException e) {
                        model.host().kill("model host " + model.host().name + " sent a malformed answer: "
                                + e.getMessage());
                        throw new InferenceFailedException(model.key() + ": its host sent a malformed answer",
                                new BrokenException(e.getMessage(), e));
                    }
                });
    }

    @Override
    public Future<BatchCalibration.Result> calibrate(int maxBatchSize, Duration budget) {
        long deadline = System.nanoTime() + budget.toNanos() * 2 + Duration.ofSeconds(5).toNanos();
        return model.host().call(HostProtocol.CALIBRATE, "calibrating " + model.key(), deadline,
                w -> w.string(model.handle()).i32(maxBatchSize).i64(budget.toNanos())).map(frame -> {
                    try {
                        HostProtocol.Reader r = frame.reader();
                        if (frame.type() != HostProtocol.CALIBRATED) {
                            r.string();
                            throw new IllegalStateException(r.string());
                        }
                        int cap = r.i32();
                        int n = r.i32();
                        if (n < 0 || n > 64) {
                            throw new IOException(n + " calibration rows");
                        }
                        TreeMap<Integer, Double> rates = new TreeMap<>();
                        for (int i = 0; i < n; i++) {
                            rates.put(r.i32(), r.f64());
                        }
                        return new BatchCalibration.Result(cap, rates, r.i64(), emptyToNull(r.string()));
                    } catch (IOException e) {
                        throw new IllegalStateException("malformed calibration answer: " + e.getMessage(), e);
                    }
                });
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }
}
