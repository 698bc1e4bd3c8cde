package com.modelmarket.serving.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import com.modelmarket.serving.FineTuneResult;
import com.modelmarket.serving.TrainedArtifact;
import com.modelmarket.serving.TrainingRun;
import com.modelmarket.serving.training.CsvDataset;
import com.modelmarket.serving.training.RecipeTrainer;
import com.modelmarket.serving.training.TrainedModel;
import com.modelmarket.serving.training.TrainingOptions;
import com.modelmarket.serving.training.TrainingResult;
import java.io.IOException;
import java.io.InputStream;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.model.ArtifactCheck;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.training.FineTuneReport;
import com.modelmarket.serving.training.FineTuneRows;
import com.modelmarket.serving.training.FineTuneSettings;
import com.modelmarket.serving.training.FineTuner;
import java.nio.file.Files;
import java.nio.file.Path;
import com.modelmarket.serving.ServingConfig;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.ModelRunner;
import com.modelmarket.serving.model.ModelValidator;
import com.modelmarket.serving.model.TorchRuntime;
import com.modelmarket.serving.store.StoredArtifact;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Models inside the platform's own JVM (serving.sandbox=off): worker verticles running their
 * version's {@link ModelRunner} (TorchScript or a trained model), {@code workerThreads} compute
 * permits and spare threads for stuck workers. Model code then runs beside every secret of the
 * platform: for trusted, single-tenant use only.
 */
public final class InProcessRuntime implements ModelRuntime {

    /** The named Vert.x worker pool that runs every predictor. */
    public static final String WORKER_POOL = "modelmarket-serving";

    private static final Logger LOG = LoggerFactory.getLogger(InProcessRuntime.class);

    private final Vertx vertx;
    private final ServingConfig config;
    private final Device device;
    private final ModelValidator validator;
    private final WorkerExecutor loader;
    /** Training and fine-tuning runs; the caller bounds how many run at once. */
    private final WorkerExecutor jobs;
    private final Semaphore computePermits;
    private final AtomicInteger sparesLent = new AtomicInteger();
    private final Map<BatchWorker, String> deployments = new ConcurrentHashMap<>();

    private record InMemory(ModelKey key, ModelRunner loaded) implements Model {
        @Override
        public void close() {
            loaded.close();
        }
    }

    /** Starts PyTorch in this JVM (blocking for a second or two): call it off the event loop. */
    public InProcessRuntime(Vertx vertx, ServingConfig config) {
        this.vertx = vertx;
        this.config = config;
        Engine engine =
                TorchRuntime.start(config.intraOpThreads(), config.interOpThreads(), config.graphOptimizer());
        this.device = TorchRuntime.device(engine, config.device());
        this.validator = new ModelValidator(device);
        this.computePermits = new Semaphore(config.workerThreads());
        this.loader = vertx.createSharedWorkerExecutor("modelmarket-model-loader", 2, 10, TimeUnit.MINUTES);
        this.jobs = vertx.createSharedWorkerExecutor("modelmarket-training-jobs", 4, 24, TimeUnit.HOURS);
        LOG.warn("serving.sandbox=off: publisher model code runs INSIDE the platform's JVM, beside its keys, "
                + "credentials and every tenant's data. Use this only for trusted single-tenant deployments.");
    }

    @Override
    public Future<Model> load(ModelKey key, StoredArtifact artifact, ModelManifest manifest) {
        return loader.executeBlocking(() -> new InMemory(key, validator.load(artifact, manifest)), false);
    }

    /**
     * Trusted mode: the fine-tuner runs in this JVM, on the loader pool, writing to a temporary
     * file; the artifact passes the same file checks as for a load first.
     */
    @Override
    public Future<FineTuneResult> fineTune(ModelKey baseKey, StoredArtifact base, ModelManifest manifest,
            FineTuneRows rows, FineTuneSettings settings, TrainingOptions options) {
        return jobs.executeBlocking(() -> {
            ThreadPriority.lowerCurrentThread(options.priority());
            ModelStore.verify(base);
            ArtifactCheck.check(base.path(), manifest, config.hosts().staticCheck());
            FineTuner.checkFits(manifest, rows);
            Path out = Files.createTempFile("modelmarket-finetuned-", ".pt");
            try {
                FineTuneReport report = new FineTuner().fineTune(base.path(), manifest, rows, settings,
                        options.cancelled(), options.timeLimit(), options.progress(), out);
                return new FineTuneResult(out, report);
            } catch (RuntimeException e) {
                Files.deleteIfExists(out);
                throw e;
            }
        }, false);
    }

    /**
     * Trusted mode: the trainer runs in this JVM, on the job pool (its thread lowered to the job's
     * priority), reading the CSV from the store and writing the archive to a temporary file.
     */
    @Override
    public Future<TrainedArtifact> train(TrainingRun run, TrainingOptions options) {
        return jobs.executeBlocking(() -> {
            ThreadPriority.lowerCurrentThread(options.priority());
            CsvDataset data;
            try (InputStream in = Files.newInputStream(ModelStore.verify(run.csv()).path())) {
                data = CsvDataset.parse(in, run.labelColumn(), run.task(), run.limits());
            }
            TrainingResult result = new RecipeTrainer().train(run.recipe(), run.hyperparameters(), data, options);
            try (TrainedModel model = result.model()) {
                Path out = Files.createTempFile("modelmarket-trained-", ".zip");
                try {
                    model.save(out);
                } catch (IOException | RuntimeException e) {
                    Files.deleteIfExists(out);
                    throw e;
                }
                return new TrainedArtifact(out, model.manifestJson("trained"), result.reportJson());
            }
        }, false);
    }

    @Override
    public Future<Worker> startWorker(Model model) {
        ModelWorker worker = new ModelWorker(model.key(), ((InMemory) model).loaded(), computePermits);
        DeploymentOptions options = new DeploymentOptions()
                .setThreadingModel(ThreadingModel.WORKER)
                .setWorkerPoolName(WORKER_POOL)
                .setWorkerPoolSize(config.workerThreads() + config.spareThreads())
                .setMaxWorkerExecuteTime(5)
                .setMaxWorkerExecuteTimeUnit(TimeUnit.MINUTES);
        return vertx.deployVerticle(worker, options).map(id -> {
            deployments.put(worker, id);
            return worker;
        });
    }

    @Override
    public Future<Void> stopWorker(BatchWorker worker) {
        String id = deployments.remove(worker);
        return id == null ? Future.succeededFuture() : vertx.undeploy(id);
    }

    @Override
    public boolean lendSpare(BatchWorker stuck) {
        int lent;
        do {
            lent = sparesLent.get();
            if (lent >= config.spareThreads()) {
                return false;
            }
        } while (!sparesLent.compareAndSet(lent, lent + 1));
        ((ModelWorker) stuck).abandon();
        return true;
    }

    @Override
    public void returnSpare() {
        sparesLent.decrementAndGet();
    }

    @Override
    public long ownerOverheadBytes() {
        return 0;
    }

    @Override
    public void onModelLost(Consumer<Model> listener) {
        // a model in this JVM is never lost without the JVM
    }

    /** Forward passes run on at most {@code workerThreads} threads at once, shared by every model. */
    @Override
    public int parallelism() {
        return config.workerThreads();
    }

    @Override
    public String device() {
        return device.toString();
    }

    @Override
    public Future<Void> close() {
        return Future.join(loader.close(), jobs.close()).mapEmpty();
    }
}
