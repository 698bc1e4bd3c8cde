package com.modelmarket.serving.host;

import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.FineTuneResult;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.TrainedArtifact;
import com.modelmarket.serving.TrainingRun;
import com.modelmarket.serving.host.HostProtocol.Frame;
import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.training.FineTuneRefusedException;
import com.modelmarket.serving.training.FineTuneReport;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import com.modelmarket.serving.training.TrainingFailedException;
import com.modelmarket.serving.training.TrainingOptions;
import com.modelmarket.serving.training.TrainingProgress;
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
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training or fine-tuning job in a job host of its own ({@link HostedRuntime#jobHost}): the
 * {@link HostProtocol#TRAIN} or {@link HostProtocol#FINETUNE} call with its deadline (the watchdog
 * kills the host if it overruns it by the kill grace, as for a batch), the job's {@link
 * HostProtocol#PROGRESS} frames passed on, a {@link HostProtocol#CANCEL} once the caller's
 * cancellation turns true (and the host killed if the job has not stopped {@link #CANCEL_GRACE_MS}
 * later), and the file it made copied out of the host's scratch folder. The platform chooses the
 * file's name; the host only says it is done, and the file is read without following links and up
 * to a size, since a fine-tuning host runs publisher code.
 */
final class HostedJob {

    private static final Logger LOG = LoggerFactory.getLogger(HostedJob.class);
    /** Largest model copied out of a job host. */
    static final long MAX_RESULT_BYTES = 2L << 30;
    /** How long a cancelled job may take to stop by itself before its host is killed. */
    static final long CANCEL_GRACE_MS = 1500;
    private static final AtomicLong JOBS = new AtomicLong();

    private HostedJob() {}

    static Future<FineTuneResult> fineTune(Vertx vertx, WorkerExecutor blocking, ModelHost host, Path modelFile,
            ModelKey key, ModelManifest manifest, FineTuneRows rows, FineTuneSettings settings,
            TrainingOptions options) {
        String job = "finetune-" + JOBS.incrementAndGet();
        List<Tensor> tensors = tensors(rows);
        Path produced = host.dir.resolve("scratch").resolve(job + ".pt");
        Future<Frame> answer = watched(vertx, host, job, options, HostProtocol.FINETUNE, "fine-tuning " + key,
                w -> w.string(job)
                        .string(HostLauncher.MODELS + "/" + modelFile.getFileName())
                        .string(manifest.toJson().encode())
                        .tensors(tensors)
                        .string(settings.toJson().encode())
                        .i64(options.timeLimit().toNanos()));
        return answer.compose(frame -> blocking.executeBlocking(() -> {
            HostProtocol.Reader r = checked(host, frame, HostProtocol.FINETUNED);
            try {
                FineTuneReport report = FineTuneReport.fromJson(new JsonObject(r.string()));
                return new FineTuneResult(copyOut(produced, ".pt"), report);
            } catch (IOException | RuntimeException e) {
                throw malformed(host, e);
            }
        }, false)).eventually(() -> blocking.executeBlocking(() -> Files.deleteIfExists(produced), false));
    }

    static Future<TrainedArtifact> train(Vertx vertx, WorkerExecutor blocking, ModelHost host, Path csvFile,
            TrainingRun run, TrainingOptions options) {
        String job = "train-" + JOBS.incrementAndGet();
        Path produced = host.dir.resolve("scratch").resolve(job + ".zip");
        JsonObject limits = new JsonObject().put("maxBytes", run.limits().maxBytes())
                .put("maxColumns", run.limits().maxColumns()).put("minRowsPerClass", run.limits().minRowsPerClass());
        Future<Frame> answer = watched(vertx, host, job, options, HostProtocol.TRAIN, "training for " + run.owner(),
                w -> w.string(job)
                        .string(HostLauncher.MODELS + "/" + csvFile.getFileName())
                        .string(run.labelColumn())
                        .string(run.task().name())
                        .string(limits.encode())
                        .string(run.recipe().toJson().encode())
                        .string(run.hyperparameters().toJson().encode())
                        .f64(options.heldOutFraction())
                        .i64(options.timeLimit().toNanos()));
        return answer.compose(frame -> blocking.executeBlocking(() -> {
            HostProtocol.Reader r = checked(host, frame, HostProtocol.TRAINED);
            try {
                JsonObject report = new JsonObject(r.string());
                JsonObject manifest = new JsonObject(r.string());
                if (report.getJsonObject("metrics") == null || report.getJsonObject("split") == null
                        || report.getLong("elapsedMillis") == null) {
                    throw new IOException("the training report lacks metrics, split or elapsed time");
                }
                return new TrainedArtifact(copyOut(produced, ".zip"), manifest, report);
            } catch (IOException | RuntimeException e) {
                throw malformed(host, e);
            }
        }, false)).eventually(() -> blocking.executeBlocking(() -> Files.deleteIfExists(produced), false));
    }

    /**
     * The job's call, watched: its progress passed on, its cancellation sent and enforced, a host
     * killed for overrunning the time limit reported as the time limit, one killed after a
     * cancellation as cancelled.
     */
    private static Future<Frame> watched(Vertx vertx, ModelHost host, String job, TrainingOptions options, byte type,
            String what, java.util.function.Consumer<HostProtocol.Writer> body) {
        long deadline = System.nanoTime() + options.timeLimit().toNanos();
        Future<Frame> answer = host.call(type, what, deadline, body, frame -> {
            try {
                options.progress().accept(TrainingProgress.fromJson(new JsonObject(frame.reader().string())));
            } catch (IOException | RuntimeException e) {
                LOG.debug("job host {}: a progress report that does not read: {}", host.name, e.toString());
            }
        });
        AtomicLong cancelledAt = new AtomicLong();
        long poll = vertx.setPeriodic(200, id -> {
            long now = System.currentTimeMillis();
            if (cancelledAt.get() == 0 && options.cancelled().getAsBoolean() && cancelledAt.compareAndSet(0, now)) {
                host.call(HostProtocol.CANCEL, "cancelling " + job, Long.MAX_VALUE, w -> w.string(job));
            } else if (cancelledAt.get() != 0 && now - cancelledAt.get() > CANCEL_GRACE_MS) {
                host.kill("job host " + host.name + " killed: " + what + " did not stop within "
                        + CANCEL_GRACE_MS + " ms of its cancellation");
            }
        });
        return answer.onComplete(ar -> vertx.cancelTimer(poll)).recover(err -> {
            if (cancelledAt.get() != 0) {
                return Future.failedFuture(new TrainingFailedException(TrainingFailedException.Reason.CANCELLED,
                        "cancelled"));
            }
            if (err instanceof DeadlineExceededException) {
                return Future.failedFuture(new TrainingFailedException(TrainingFailedException.Reason.TIME_LIMIT,
                        "the time limit of " + options.timeLimit() + " passed and the job did not stop; its "
                                + "process was killed"));
            }
            return Future.failedFuture(err);
        });
    }

    /** The answer's reader if it is {@code expected}; a FAILED answer as the job's exception. */
    private static HostProtocol.Reader checked(ModelHost host, Frame frame, byte expected) throws IOException {
        HostProtocol.Reader r = frame.reader();
        if (frame.type() == HostProtocol.FAILED) {
            String kind;
            String reason;
            try {
                kind = r.string();
                reason = r.string();
            } catch (IOException | RuntimeException e) {
                throw malformed(host, e);
            }
            throw failure(kind, reason);
        }
        if (frame.type() != expected) {
            throw malformed(host, new IOException("unexpected answer " + frame.type()));
        }
        return r;
    }

    private static TrainingFailedException malformed(ModelHost host, Exception e) {
        host.kill("job host " + host.name + " sent a malformed answer: " + e.getMessage());
        return new TrainingFailedException(TrainingFailedException.Reason.ENGINE_ERROR,
                "the job's process sent a malformed answer");
    }

    /** A job's FAILED answer: refused (the rows or recipe do not fit), or a run that ended for a reason. */
    private static RuntimeException failure(String kind, String reason) {
        if (kind.equals("finetune-refused")) {
            return new FineTuneRefusedException(reason);
        }
        if (kind.equals("train-refused")) {
            return new IllegalArgumentException(reason);
        }
        TrainingFailedException.Reason why = TrainingFailedException.Reason.ENGINE_ERROR;
        for (TrainingFailedException.Reason r : TrainingFailedException.Reason.values()) {
            if (kind.equals("finetune-" + r.name()) || kind.equals("train-" + r.name())) {
                why = r;
            }
        }
        return new TrainingFailedException(why, reason);
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

    /** The host's file, not followed if it is a link, into a temporary file of the platform's. */
    private static Path copyOut(Path produced, String suffix) throws IOException {
        if (!Files.isRegularFile(produced, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("the job host wrote no model");
        }
        Path out = Files.createTempFile("modelmarket-job-", suffix);
        try (InputStream in = Files.newInputStream(produced, LinkOption.NOFOLLOW_LINKS);
                OutputStream os = Files.newOutputStream(out)) {
            byte[] buf = new byte[1 << 16];
            long total = 0;
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                total += n;
                if (total > MAX_RESULT_BYTES) {
                    throw new IOException("the model is larger than " + MAX_RESULT_BYTES + " bytes");
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
