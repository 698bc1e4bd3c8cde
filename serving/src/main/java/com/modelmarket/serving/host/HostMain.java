package com.modelmarket.serving.host;

import ai.djl.Device;
import ai.djl.engine.Engine;
import com.modelmarket.serving.host.HostProtocol.Frame;
import com.modelmarket.serving.host.HostProtocol.Writer;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.ModelRunner;
import com.modelmarket.serving.model.ModelValidator;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TorchErrors;
import com.modelmarket.serving.model.TorchRuntime;
import com.modelmarket.serving.engine.BatchCalibration;
import com.modelmarket.serving.training.FineTuneRefusedException;
import com.modelmarket.serving.training.FineTuneReport;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import com.modelmarket.serving.training.FineTuner;
import com.modelmarket.serving.training.CsvDataset;
import com.modelmarket.serving.training.CsvLimits;
import com.modelmarket.serving.training.Hyperparameters;
import com.modelmarket.serving.training.RecipeTrainer;
import com.modelmarket.serving.training.TrainedModel;
import com.modelmarket.serving.training.TrainingFailedException;
import com.modelmarket.serving.training.TrainingOptions;
import com.modelmarket.serving.training.TrainingProgress;
import com.modelmarket.serving.training.TrainingRecipe;
import com.modelmarket.serving.training.TrainingResult;
import com.modelmarket.serving.training.TrainingTask;
import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The model host: a separate process (started by {@link HostLauncher}, inside the sandbox) that
 * runs the models of one publisher tenant: TorchScript code, or trained models, each a {@link
 * ModelRunner} of the kind its manifest declares. The same program is a job host: one training job
 * ({@link RecipeTrainer} on a tenant's CSV, the archive written into /scratch) or one fine-tuning
 * job ({@link
 * FineTuner}, writing the result into /scratch). It connects to the platform over the
 * Unix-domain socket it is given, loads models, runs batches and calibrations on a fixed pool of
 * compute threads (the tenant's share of the compute slots) and answers each call by its id.
 *
 * <p>Nothing here is trusted by the platform: model code can take this process over. The
 * platform checks every answer, bounds every call by a deadline and kills the host when one
 * overruns.
 *
 * <p>Arguments: {@code SOCKET THREADS INTRA_OP INTER_OP GRAPH_OPTIMIZER DEVICE}, or {@code
 * --prepare} to unpack PyTorch's natives into the engine cache directory and exit (run once by the
 * platform, outside the sandbox, with no model).
 */
public final class HostMain {

    /** The name of the threads that run models (the platform reads their CPU time to tell computing from waiting). */
    static final String COMPUTE_THREAD = "host-compute";

    private static final int MAX_FRAME = Integer.MAX_VALUE - 64;

    private final SocketChannel channel;
    private final Device device;
    private final ExecutorService compute;
    private final Map<String, ModelRunner> models = new ConcurrentHashMap<>();
    /** Fine-tuning jobs running, by name, with their cancellation flags. */
    private final Map<String, AtomicBoolean> jobs = new ConcurrentHashMap<>();

    private HostMain(SocketChannel channel, Device device, int threads) {
        this.channel = channel;
        this.device = device;
        this.compute = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, COMPUTE_THREAD);
            t.setDaemon(true);
            return t;
        });
    }

    public static void main(String[] args) throws Exception {
        // frames never travel on standard output: whatever model code prints goes to the log
        System.setOut(System.err);
        if (args.length == 1 && args[0].equals("--prepare")) {
            Engine engine = TorchRuntime.start(1, 1, false);
            System.err.println("PyTorch " + engine.getVersion() + " natives ready");
            System.exit(0);
        }
        if (args.length != 6) {
            System.err.println("usage: HostMain SOCKET THREADS INTRA_OP INTER_OP GRAPH_OPTIMIZER DEVICE");
            System.exit(2);
        }
        int threads = Integer.parseInt(args[1]);
        Engine engine = TorchRuntime.start(Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                Boolean.parseBoolean(args[4]));
        Device device = TorchRuntime.device(engine, args[5]);
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(args[0]));
        new HostMain(channel, device, threads).serve();
    }

    private void serve() throws IOException {
        send(new Writer(HostProtocol.HELLO, 0).i64(ProcessHandle.current().pid()));
        InputStream in = new java.io.DataInputStream(new BufferedInputStream(input(channel), 1 << 16));
        for (Frame f = HostProtocol.read(in, MAX_FRAME); f != null; f = HostProtocol.read(in, MAX_FRAME)) {
            Frame frame = f;
            switch (frame.type()) {
                case HostProtocol.LOAD -> compute.execute(() -> answer(frame, this::load));
                case HostProtocol.RUN -> compute.execute(() -> answer(frame, this::run));
                case HostProtocol.CALIBRATE -> compute.execute(() -> answer(frame, this::calibrate));
                case HostProtocol.UNLOAD -> answer(frame, this::unload);
                case HostProtocol.FINETUNE -> compute.execute(() -> answer(frame, this::fineTune));
                case HostProtocol.TRAIN -> compute.execute(() -> answer(frame, this::train));
                case HostProtocol.CANCEL -> answer(frame, this::cancel);
                default -> throw new IOException("unknown frame type " + frame.type());
            }
        }
        // the platform closed the socket: nothing more to do
        System.exit(0);
    }

    @FunctionalInterface
    private interface Handler {
        Writer handle(Frame frame) throws Exception;
    }

    private void answer(Frame frame, Handler handler) {
        Writer reply;
        try {
            reply = handler.handle(frame);
        } catch (Exception e) { // NOPMD: every call is answered
            reply = new Writer(HostProtocol.FAILED, frame.id()).string("run").string(TorchErrors.brief(e));
        }
        try {
            send(reply);
        } catch (IOException e) {
            System.exit(0); // the platform is gone
        }
    }

    private Writer load(Frame frame) throws IOException {
        HostProtocol.Reader r = frame.reader();
        String handle = r.string();
        Path file = Path.of(r.string());
        ModelManifest manifest = ModelManifest.fromJson(new JsonObject(r.string()));
        ModelRunner model;
        try {
            model = ModelRunner.load(file, manifest, device);
        } catch (Exception e) { // NOPMD: reported as the load check
            return new Writer(HostProtocol.FAILED, frame.id()).string("load")
                    .string(ModelValidator.loadFailure(manifest, e));
        }
        List<Tensor> outputs;
        try {
            outputs = model.run(manifest.example());
        } catch (Exception e) { // NOPMD: reported as the example check
            model.close();
            return new Writer(HostProtocol.FAILED, frame.id()).string("example")
                    .string("the example input fails: " + TorchErrors.brief(e));
        }
        ModelRunner previous = models.put(handle, model);
        if (previous != null) {
            previous.close();
        }
        return new Writer(HostProtocol.LOADED, frame.id()).tensors(outputs);
    }

    private Writer run(Frame frame) throws Exception {
        HostProtocol.Reader r = frame.reader();
        ModelRunner model = hosted(r.string());
        List<Tensor> inputs = r.tensors();
        long start = System.nanoTime();
        List<Tensor> outputs = model.run(inputs);
        long nanos = System.nanoTime() - start;
        return new Writer(HostProtocol.OUTPUT, frame.id()).i64(nanos).tensors(outputs);
    }

    private Writer calibrate(Frame frame) throws Exception {
        HostProtocol.Reader r = frame.reader();
        ModelRunner model = hosted(r.string());
        int maxBatchSize = r.i32();
        Duration budget = Duration.ofNanos(r.i64());
        BatchCalibration.Result result = BatchCalibration.run(size -> {
            List<Tensor> inputs = BatchCalibration.syntheticInputs(model.manifest(), size)
                    .orElseThrow(() -> new IllegalStateException("no synthetic input"));
            long start = System.nanoTime();
            model.run(inputs);
            return System.nanoTime() - start;
        }, maxBatchSize, budget, System::nanoTime);
        Writer w = new Writer(HostProtocol.CALIBRATED, frame.id()).i32(result.cap())
                .i32(result.itemsPerSecond().size());
        result.itemsPerSecond().forEach((size, rate) -> w.i32(size).f64(rate));
        return w.i64(result.spentNanos()).string(result.stoppedBecause() == null ? "" : result.stoppedBecause());
    }

    private Writer fineTune(Frame frame) throws IOException {
        HostProtocol.Reader r = frame.reader();
        String job = r.string();
        Path file = Path.of(r.string());
        ModelManifest manifest = ModelManifest.fromJson(new JsonObject(r.string()));
        List<Tensor> tensors = r.tensors();
        String settingsJson = r.string();
        Duration limit = Duration.ofNanos(r.i64());
        if (!job.matches("[A-Za-z0-9-]{1,64}")) {
            throw new IOException("job name " + job);
        }
        AtomicBoolean cancelled = new AtomicBoolean();
        jobs.put(job, cancelled);
        try {
            FineTuneSettings settings = FineTuneSettings.fromJson(new JsonObject(settingsJson));
            FineTuneReport report = new FineTuner().fineTune(file, manifest, rows(tensors), settings,
                    cancelled::get, limit, p -> progress(frame.id(), p), Path.of(HostLauncher.SCRATCH, job + ".pt"));
            return new Writer(HostProtocol.FINETUNED, frame.id()).string(report.toJson().encode());
        } catch (FineTuneRefusedException | IllegalArgumentException e) {
            return new Writer(HostProtocol.FAILED, frame.id()).string("finetune-refused").string(e.getMessage());
        } catch (TrainingFailedException e) {
            return new Writer(HostProtocol.FAILED, frame.id()).string("finetune-" + e.reason().name())
                    .string(e.getMessage());
        } finally {
            jobs.remove(job);
        }
    }

    /**
     * A recipe training job on a tenant's CSV ({@link RecipeTrainer}): platform code on the tenant's
     * data, in a process of its own at the job's priority, so that it shares nothing with the
     * server's JVM but the CPU, and only the CPU time nothing else wants.
     */
    private Writer train(Frame frame) throws IOException {
        HostProtocol.Reader r = frame.reader();
        String job = r.string();
        Path csv = Path.of(r.string());
        String label = r.string();
        TrainingTask task = TrainingTask.valueOf(r.string());
        JsonObject limits = new JsonObject(r.string());
        TrainingRecipe recipe = TrainingRecipe.fromJson(new JsonObject(r.string()));
        Hyperparameters hp = Hyperparameters.fromJson(new JsonObject(r.string()));
        double heldOut = r.f64();
        Duration limit = Duration.ofNanos(r.i64());
        if (!job.matches("[A-Za-z0-9-]{1,64}")) {
            throw new IOException("job name " + job);
        }
        AtomicBoolean cancelled = new AtomicBoolean();
        jobs.put(job, cancelled);
        try {
            CsvDataset data;
            try (InputStream in = java.nio.file.Files.newInputStream(csv)) {
                data = CsvDataset.parse(in, label, task, new CsvLimits(limits.getLong("maxBytes"),
                        limits.getInteger("maxColumns"), limits.getInteger("minRowsPerClass")));
            }
            TrainingOptions options = TrainingOptions.DEFAULT.withHeldOutFraction(heldOut).withTimeLimit(limit)
                    .withCancellation(cancelled::get).withProgress(p -> progress(frame.id(), p));
            TrainingResult result = new RecipeTrainer().train(recipe, hp, data, options);
            try (TrainedModel model = result.model()) {
                model.save(Path.of(HostLauncher.SCRATCH, job + ".zip"));
                return new Writer(HostProtocol.TRAINED, frame.id()).string(result.reportJson().encode())
                        .string(model.manifestJson("trained").encode());
            }
        } catch (TrainingFailedException e) {
            return new Writer(HostProtocol.FAILED, frame.id()).string("train-" + e.reason().name())
                    .string(e.getMessage());
        } catch (RuntimeException e) {
            return new Writer(HostProtocol.FAILED, frame.id()).string("train-refused").string(e.toString());
        } finally {
            jobs.remove(job);
        }
    }

    /** An epoch of a job, sent with its call's id; the platform is told, the call stays open. */
    private void progress(long callId, TrainingProgress p) {
        try {
            send(new Writer(HostProtocol.PROGRESS, callId).string(p.toJson().encode()));
        } catch (IOException e) {
            System.exit(0); // the platform is gone
        }
    }

    /** Features FP32 [n, N] and labels FP32 [n], as the platform sends them. */
    private static FineTuneRows rows(List<Tensor> tensors) {
        if (tensors.size() != 2 || tensors.get(0).rank() != 2 || tensors.get(1).rank() != 1
                || tensors.get(0).dim(0) != tensors.get(1).dim(0)) {
            throw new IllegalArgumentException("fine-tuning takes features [n, N] and labels [n]");
        }
        int n = (int) tensors.get(0).dim(0);
        int width = (int) tensors.get(0).dim(1);
        float[] flat = tensors.get(0).toFloats();
        float[][] features = new float[n][];
        for (int i = 0; i < n; i++) {
            features[i] = java.util.Arrays.copyOfRange(flat, i * width, (i + 1) * width);
        }
        return new FineTuneRows(features, tensors.get(1).toFloats());
    }

    private Writer cancel(Frame frame) throws IOException {
        AtomicBoolean flag = jobs.get(frame.reader().string());
        if (flag != null) {
            flag.set(true);
        }
        return new Writer(HostProtocol.DONE, frame.id());
    }

    private Writer unload(Frame frame) throws IOException {
        ModelRunner model = models.remove(frame.reader().string());
        if (model != null) {
            // after the calls queued before it; the platform unloads only once the model's workers stopped
            compute.execute(model::close);
        }
        return new Writer(HostProtocol.DONE, frame.id());
    }

    private ModelRunner hosted(String handle) {
        ModelRunner model = models.get(handle);
        if (model == null) {
            throw new IllegalStateException("no model " + handle + " in this host");
        }
        return model;
    }

    private void send(Writer w) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(w.frame());
        synchronized (channel) {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        }
    }

    /**
     * An input stream over the channel that does not take the channel's blocking lock, so that
     * writes from the compute threads proceed while the main thread waits for the next frame.
     */
    static InputStream input(SocketChannel channel) {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return channel.read(ByteBuffer.wrap(b, off, len));
            }
        };
    }
}
