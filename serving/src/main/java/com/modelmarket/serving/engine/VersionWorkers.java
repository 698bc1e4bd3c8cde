package com.modelmarket.serving.engine;

import com.modelmarket.serving.ModelNotLoadedException;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.batch.Batcher;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts, calibrates, drains and stops the workers of the engine's versions on its {@link ModelRuntime},
 * and answers each version's {@link Batcher} when a worker is up or could not start. What depends
 * on the version table (is the version still registered, is this still its model) it asks the
 * engine, which takes its own lock for it; this class holds no lock and no table of its own.
 */
final class VersionWorkers {

    /** The engine's side: each call takes the engine's lock. */
    interface Versions {
        /** The model a new worker of {@code v} runs on, loaded first if needed (a cold start). */
        Future<ModelRuntime.Model> modelFor(ServedVersion v);

        /** Whether {@code v} is registered and {@code model} is still its model. */
        boolean mayDeploy(ServedVersion v, ModelRuntime.Model model);

        /** Records a started worker of {@code v}; false if {@code v} left the table meanwhile. */
        boolean adopt(ServedVersion v, BatchWorker worker);

        /**
         * If {@code v}'s model is gone (its host died) but the news has not reached the engine yet,
         * forgets it now, so that the next load starts afresh; whether {@code v} is still registered
         * (and so worth a second try).
         */
        boolean forgetIfLost(ServedVersion v);
    }

    private static final Logger LOG = LoggerFactory.getLogger(VersionWorkers.class);

    private final Vertx vertx;
    private final ModelRuntime runtime;
    private final Versions versions;
    private final Duration shutdownTimeout;

    VersionWorkers(Vertx vertx, ModelRuntime runtime, Versions versions, Duration shutdownTimeout) {
        this.vertx = vertx;
        this.runtime = runtime;
        this.versions = versions;
        this.shutdownTimeout = shutdownTimeout;
    }

    /** The scaler the version's batcher asks for workers (built while the version is). */
    Batcher.Scaler scalerFor(ServedVersion v) {
        return new Scaler(v);
    }

    /** Starts the version's minimum workers on its freshly loaded model. */
    Future<Void> startMinimum(ServedVersion v, ModelRuntime.Model model) {
        int count = v.config.minWorkers();
        v.batcher.expectWorkers(count);
        List<Future<ModelRuntime.Worker>> started = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            started.add(deploy(v, model).compose(w -> calibrated(v, w)).andThen(ar -> answer(v, ar)));
        }
        return Future.all(started).mapEmpty();
    }

    /** One more worker the batcher asked for: loads the model first if needed (a cold start). */
    void start(ServedVersion v) {
        versions.modelFor(v).compose(m -> deploy(v, m))
                // the model's host died just before: load it afresh once instead of failing queued requests
                .recover(err -> err instanceof ModelNotLoadedException && versions.forgetIfLost(v)
                        ? versions.modelFor(v).compose(m -> deploy(v, m))
                        : Future.failedFuture(err))
                .compose(w -> calibrated(v, w))
                .onComplete(ar -> answer(v, ar));
    }

    private static void answer(ServedVersion v, AsyncResult<ModelRuntime.Worker> ar) {
        if (ar.succeeded()) {
            v.batcher.workerStarted(ar.result());
        } else {
            v.batcher.workerFailed(ar.cause());
        }
    }

    private Future<ModelRuntime.Worker> deploy(ServedVersion v, ModelRuntime.Model model) {
        if (!versions.mayDeploy(v, model)) {
            return Future.failedFuture(new ModelNotLoadedException(v.key));
        }
        return runtime.startWorker(model).compose(worker -> versions.adopt(v, worker)
                ? Future.succeededFuture(worker)
                // unloaded while it started: stop it at once
                : runtime.stopWorker(worker).transform(x ->
                        Future.failedFuture(new ModelNotLoadedException(v.key))));
    }

    /**
     * Times batch sizes on the version's first worker, once per version, and caps its batches; the
     * worker takes real batches only afterwards. Calibration that fails or cannot run keeps {@code
     * maxBatchSize}.
     */
    private Future<ModelRuntime.Worker> calibrated(ServedVersion v, ModelRuntime.Worker worker) {
        if (!v.calibrationStarted.compareAndSet(false, true)) {
            return Future.succeededFuture(worker);
        }
        PoolConfig pool = v.config;
        if (pool.calibrationBudget().isZero() || pool.maxBatchSize() == 1) {
            return Future.succeededFuture(worker);
        }
        if (BatchCalibration.syntheticInputs(v.manifest, 1).isEmpty()) {
            LOG.info("{}: batch cap stays {}: an input has a variable dimension besides the batch", v.key,
                    pool.maxBatchSize());
            return Future.succeededFuture(worker);
        }
        return worker.calibrate(pool.maxBatchSize(), pool.calibrationBudget()).map(result -> {
            v.batcher.useBatchCap(result.cap());
            Double single = result.itemsPerSecond().get(1);
            if (single != null) {
                v.batcher.useCalibration(single, runtime.parallelism());
            }
            LOG.info("{}: batch cap {} of {} (items/s by batch size: {}) calibrated in {} ms{}", v.key,
                    result.cap(), pool.maxBatchSize(), result.table(), result.spentNanos() / 1_000_000,
                    result.stoppedBecause() == null ? "" : "; stopped: " + result.stoppedBecause());
            return worker;
        }).recover(err -> {
            LOG.warn("{}: batch size calibration failed, the cap stays {}: {}", v.key, pool.maxBatchSize(),
                    err.toString());
            return Future.succeededFuture(worker);
        });
    }

    /** Lets queued and running work finish within the shutdown timeout; fails what is left. */
    Future<Void> drain(ServedVersion v) {
        Promise<Void> drained = Promise.promise();
        long timer = vertx.setTimer(shutdownTimeout.toMillis(), id -> {
            LOG.warn("{}: work left after {}; failing it", v.key, shutdownTimeout);
            v.batcher.abort(new OverloadedException(v.key + " shut down before the request finished",
                    Duration.ofSeconds(1)));
            drained.tryComplete();
        });
        v.batcher.close().onComplete(ar -> {
            vertx.cancelTimer(timer);
            drained.tryComplete();
        });
        return drained.future();
    }

    /** Stops those of {@code workers} that are still deployed for the version. */
    Future<Void> undeploy(ServedVersion v, List<BatchWorker> workers) {
        List<Future<Void>> stopped = new ArrayList<>();
        for (BatchWorker w : workers) {
            if (v.deployments.remove(w)) {
                stopped.add(runtime.stopWorker(w));
            }
        }
        return Future.join(stopped).mapEmpty();
    }

    /** Stops every worker of the version. */
    Future<Void> undeployAll(ServedVersion v) {
        return undeploy(v, new ArrayList<>(v.deployments));
    }

    /**
     * Completes with true once the version's stuck workers have returned and stopped, or with false
     * after the shutdown timeout: their model must then stay open (leaked) rather than be freed
     * under a forward pass.
     */
    Future<Boolean> stuckStopped(ServedVersion v) {
        List<Future<Void>> pending = new ArrayList<>(v.stopping);
        if (pending.isEmpty()) {
            return Future.succeededFuture(true);
        }
        Promise<Boolean> done = Promise.promise();
        long timer = vertx.setTimer(shutdownTimeout.toMillis(), id -> done.tryComplete(false));
        Future.join(pending).onComplete(ar -> {
            vertx.cancelTimer(timer);
            done.tryComplete(true);
        });
        return done.future();
    }

    /** Frees {@code model} unless a worker of the version may still be inside a forward pass on it. */
    static void closeUnlessStuck(ServedVersion v, ModelRuntime.Model model, AsyncResult<Boolean> stopped) {
        if (stopped.succeeded() && stopped.result()) {
            model.close();
        } else {
            LOG.warn("{}: a worker is still stuck in a forward pass; its model stays in memory", v.key);
        }
    }

    /** The batcher's scaler for one version: starts workers, stops broken or stuck ones. */
    private final class Scaler implements Batcher.Scaler {
        private final ServedVersion v;

        Scaler(ServedVersion v) {
            this.v = v;
        }

        @Override
        public void startWorker() {
            start(v);
        }

        @Override
        public void stopWorker(BatchWorker worker, Future<Void> after) {
            // out of the deployments at once: unloading waits for a stuck pass only so long
            if (!v.deployments.remove(worker)) {
                return;
            }
            Future<Void> stopped = after.transform(ar -> runtime.stopWorker(worker));
            v.stopping.add(stopped);
            stopped.onComplete(ar -> v.stopping.remove(stopped));
        }

        @Override
        public boolean lendSpare(BatchWorker stuck) {
            return runtime.lendSpare(stuck);
        }

        @Override
        public void returnSpare() {
            runtime.returnSpare();
        }
    }
}
