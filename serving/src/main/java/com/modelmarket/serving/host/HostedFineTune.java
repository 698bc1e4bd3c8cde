package com.modelmarket.serving.host;

import com.modelmarket.serving.FineTuneResult;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.host.HostProtocol.Frame;
import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.training.FineTuneRefusedException;
import com.modelmarket.serving.training.FineTuneReport;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import com.modelmarket.serving.training.TrainingFailedException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * One fine-tuning job in a model host: the {@link HostProtocol#FINETUNE} call with its deadline (the
 * watchdog kills the host if it overruns it by the kill grace, as for a batch), a {@link
 * HostProtocol#CANCEL} once the caller's cancellation turns true, and the tuned file copied out of
 * the host's scratch folder. The platform chooses the file's name; the host only says it is done,
 * and the file is read without following links and up to a size, since the host runs publisher code.
 */
final class HostedFineTune {

    /** Largest tuned model copied out of a host. */
    static final long MAX_RESULT_BYTES = 2L << 30;
    private static final AtomicLong JOBS = new AtomicLong();

    private HostedFineTune() {}

    static Future<FineTuneResult> run(Vertx vertx, WorkerExecutor blocking, ModelHost host, Path modelFile,
            ModelKey key, ModelManifest manifest, FineTuneRows rows, FineTuneSettings settings, Duration limit,
            BooleanSupplier cancelled) {
        String job = "finetune-" + JOBS.incrementAndGet();
        long deadline = System.nanoTime() + limit.toNanos();
        List<Tensor> tensors = tensors(rows);
        Future<Frame> answer = host.call(HostProtocol.FINETUNE, "fine-tuning " + key, deadline, w -> w.string(job)
                .string(HostLauncher.MODELS + "/" + modelFile.getFileName())
                .string(manifest.toJson().encode())
                .tensors(tensors)
                .string(settings.toJson().encode())
                .i64(limit.toNanos()));
        AtomicBoolean cancelSent = new AtomicBoolean();
        long poll = vertx.setPeriodic(200, id -> {
            if (!cancelSent.get() && cancelled.getAsBoolean() && cancelSent.compareAndSet(false, true)) {
                host.call(HostProtocol.CANCEL, "cancelling " + job, Long.MAX_VALUE, w -> w.string(job));
            }
        });
        Path produced = host.dir.resolve("scratch").resolve(job + ".pt");
        return answer.onComplete(ar -> vertx.cancelTimer(poll))
                .compose(frame -> blocking.executeBlocking(() -> result(host, frame, produced), false))
                .eventually(() -> blocking.executeBlocking(() -> Files.deleteIfExists(produced), false));
    }

    private static List<Tensor> tensors(FineTuneRows rows) {
        int n = rows.count();
        int width = n == 0 ? 0 : rows.features()[0].length;
        ByteBuffer features = ByteBuffer.allocate(Math.multiplyExact(Math.multiplyExact(n, width), 4))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (float[] row : rows.features()) {
            for (float v : row) {
                features.putFloat(v);
            }
        }
        return List.of(Tensor.of("features", DataType.FP32, new long[] {n, width}, features.array()),
                Tensor.ofFloats("labels", new long[] {n}, rows.labels()));
    }

    private static FineTuneResult result(ModelHost host, Frame frame, Path produced) throws IOException {
        try {
            HostProtocol.Reader r = frame.reader();
            if (frame.type() == HostProtocol.FAILED) {
                throw failure(r.string(), r.string());
            }
            if (frame.type() != HostProtocol.FINETUNED) {
                throw new IOException("unexpected answer " + frame.type());
            }
            FineTuneReport report = FineTuneReport.fromJson(new JsonObject(r.string()));
            return new FineTuneResult(copyOut(produced), report);
        } catch (IOException | RuntimeException e) {
            if (e instanceof FineTuneRefusedException || e instanceof TrainingFailedException) {
                throw e;
            }
            host.kill("model host " + host.name + " sent a malformed fine-tuning answer: " + e.getMessage());
            throw new TrainingFailedException(TrainingFailedException.Reason.ENGINE_ERROR,
                    "the model host sent a malformed fine-tuning answer");
        }
    }

    private static RuntimeException failure(String kind, String reason) {
        if (kind.equals("finetune-refused")) {
            return new FineTuneRefusedException(reason);
        }
        TrainingFailedException.Reason why = TrainingFailedException.Reason.ENGINE_ERROR;
        for (TrainingFailedException.Reason r : TrainingFailedException.Reason.values()) {
            if (kind.equals("finetune-" + r.name())) {
                why = r;
            }
        }
        return new TrainingFailedException(why, reason);
    }

    /** The host's file, not followed if it is a link, into a temporary file of the platform's. */
    private static Path copyOut(Path produced) throws IOException {
        if (!Files.isRegularFile(produced, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("the model host wrote no tuned model");
        }
        Path out = Files.createTempFile("modelmarket-finetuned-", ".pt");
        try (InputStream in = Files.newInputStream(produced, LinkOption.NOFOLLOW_LINKS);
                OutputStream os = Files.newOutputStream(out)) {
            byte[] buf = new byte[1 << 16];
            long total = 0;
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                total += n;
                if (total > MAX_RESULT_BYTES) {
                    throw new IOException("the tuned model is larger than " + MAX_RESULT_BYTES + " bytes");
                }
                os.write(buf, 0, n);
            }
        } catch (IOException e) {
            Files.deleteIfExists(out);
            throw e;
        }
        return out;
    }
}
