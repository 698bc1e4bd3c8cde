/**
 * Training core: turns a tenant's CSV into a servable model with a publisher's declarative recipe.
 * A library (blocking calls, no HTTP, no tenants, no billing), like the rest of {@code serving}.
 *
 * <h2>Classes</h2>
 *
 * <ul>
 *   <li>{@link com.modelmarket.serving.training.CsvDataset}: streams a CSV ({@link
 *       com.modelmarket.serving.training.CsvLimits}: byte cap, column cap, rows per class) into
 *       float features and class indices or regression targets, with {@link
 *       com.modelmarket.serving.training.ColumnStats} per column and class counts. Refusals are
 *       {@link com.modelmarket.serving.training.DatasetRefusedException} with a reason, line/row
 *       and column. An empty cell is a missing value (counted, imputed with the training mean); the
 *       text {@code NaN}/{@code inf} is refused. {@code parseFor} checks a later file against a
 *       model's columns and labels (unknown label refused).
 *   <li>{@link com.modelmarket.serving.training.TrainingRecipe}: an algorithm version (task, block
 *       kind {@code linear}|{@code mlp}, activation, dropout, loss, optimizer, and a schema of
 *       {@link com.modelmarket.serving.training.HyperparameterSpec}s over the fixed set of {@link
 *       com.modelmarket.serving.training.Hyperparameter}s). {@code fromJson} validates on publish;
 *       {@code resolve} turns a job's values into {@link
 *       com.modelmarket.serving.training.Hyperparameters}. Bad fields are {@link
 *       com.modelmarket.serving.training.InvalidFieldException} with a JSON pointer.
 *   <li>{@link com.modelmarket.serving.training.RecipeTrainer}: trains on the calling thread with
 *       DJL's {@code Trainer} ({@link com.modelmarket.serving.training.TrainingOptions}: held-out
 *       fraction, time limit, cancellation, per-epoch {@link
 *       com.modelmarket.serving.training.TrainingProgress}); ends with a {@link
 *       com.modelmarket.serving.training.TrainingResult} (model, {@link
 *       com.modelmarket.serving.training.HeldOutMetrics}, curve, {@link
 *       com.modelmarket.serving.training.DataSplit}) or a {@link
 *       com.modelmarket.serving.training.TrainingFailedException} with a reason ({@code CANCELLED,
 *       TIME_LIMIT, DIVERGED, ENGINE_ERROR}).
 *   <li>{@link com.modelmarket.serving.training.TrainedModel}: the servable model and its archive;
 *       {@link com.modelmarket.serving.training.TrainedModelArchive}: the archive's layout, checked
 *       without DJL (the serving platform checks a stored file with it before anything loads it).
 * </ul>
 *
 * <h2>Artifact format: {@code modelmarket.trained-model} version 1</h2>
 *
 * A zip with exactly two entries, written in this order with a fixed timestamp, so identical
 * parameters give identical bytes and SHA-256 (content addressing works as for TorchScript):
 *
 * <ul>
 *   <li>{@code trained-model.json}: {@code format}, {@code formatVersion}, {@code task}, {@code
 *       recipe} (normalised), {@code hyperparameters} (resolved, seed included), {@code features}
 *       (input order), {@code labels} (output order; empty for regression), {@code
 *       standardization} ({@code featureMean}, {@code featureScale}, {@code targetMean}, {@code
 *       targetScale}, learned on the training split only; floats stored exactly).
 *   <li>{@code model.params}: DJL's own parameter format ({@code Block.saveParameters}), not
 *       TorchScript: it holds no code, only tensors, and loads only into the block that the recipe
 *       and hyperparameters define, which {@link com.modelmarket.serving.training.TrainedModel#load}
 *       rebuilds ({@code RecipeBlocks}).
 * </ul>
 *
 * Served contract ({@link com.modelmarket.serving.training.TrainedModel#manifestJson}): input
 * {@code features} FP32 {@code [-1, N]} of raw (unscaled) values, NaN meaning missing; output
 * {@code probabilities} FP32 {@code [-1, K]} (softmax, labels on the spec) or {@code value} FP32
 * {@code [-1, 1]} in the target's units. Held-out metrics are computed from exactly these float
 * outputs, so replaying the held-out rows ({@link com.modelmarket.serving.training.DataSplit#heldOut})
 * through the served model reproduces them.
 *
 * <h2>Serving</h2>
 *
 * The serving engine serves these archives like TorchScript: put the zip in the {@code
 * ModelStore}, parse {@code manifestJson(name)} with {@code ModelManifest.fromJson} (it declares
 * {@code "artifact": "trained-model"}) and call {@code ServingEngine.load}. The platform checks the
 * archive ({@code model.ArtifactCheck}: the layout above, {@code FORMAT}; features and outputs
 * against the manifest, {@code SCHEMA}); the model host (or the in-process runtime) loads it with
 * {@link com.modelmarket.serving.training.TrainedModel#load}, runs the manifest's example, and
 * serves batches of rows through {@code model.TrainedModelRunner}, with the same batching,
 * calibration, deadlines and memory budget as TorchScript (estimated at three times the archive
 * plus 2 MiB, see {@code engine.MemoryAccount}). A manifest declares one kind and its file is
 * checked and loaded only as that kind: a TorchScript file declared a trained model, or a trained
 * model declared TorchScript, is refused.
 *
 * <h2>Determinism and threads</h2>
 *
 * Split, standardisation, initial weights and batch order come from the seed through Java
 * generators; the engine's global generator (dropout) is reseeded per run, so two concurrent
 * dropout runs in one process are not reproducible (recipes without dropout always are). The
 * trainer does not change PyTorch's thread settings: whoever owns the training pool starts the
 * engine ({@code TorchRuntime.start}) with one intra-op thread, as the tests do; results are
 * reproducible with one intra-op thread. A {@link com.modelmarket.serving.training.TrainedModel}
 * serialises its {@code predict} calls (one at a time per model), so the workers of one served
 * version may share it.
 *
 * <h2>Integration points still missing</h2>
 *
 * <ol>
 *   <li><b>HTTP API</b> (marketplace): datasets (upload through the existing streamed upload path
 *       into {@code CsvDataset.parse}, list/show/delete, tenant-private), algorithms (publish =
 *       {@code TrainingRecipe.fromJson}, 422 naming the pointer), jobs ({@code POST} with
 *       hyperparameters: {@code resolve}, 400 naming the pointer; progress poll and SSE from
 *       {@code TrainingProgress.toJson}; cancel). Map {@code DatasetRefusedException} to 400 (413
 *       for {@code TOO_LARGE}) in the one error mapper.
 *   <li><b>Job pool and states</b>: a bounded executor (threads, per-tenant concurrency, queue
 *       bound answering 429/503), states {@code queued → running → succeeded | failed |
 *       cancelled} as an enum in a repository that owns its table, audit of each change, cancel by
 *       flipping the {@code BooleanSupplier}, the plan's time limit as {@code
 *       TrainingOptions.timeLimit}; on restart mark running jobs failed ("interrupted"). On success
 *       store the artifact ({@code ModelStore.put}, like an upload) and create the private model
 *       version with the manifest from {@code manifestJson}, whose {@code artifact} the version
 *       record must keep (the marketplace stores {@code ModelManifest.toJson()}, which writes it);
 *       on failure store nothing.
 *   <li><b>Billing</b>: meter a job once by its id (compute time = {@code TrainingResult.elapsed}).
 *   <li><b>UI and demo catalog</b>: the recipes in {@code serving/fixtures/recipes} and the data sets
 *       from {@code serving/fixtures/datasets/make_datasets.py} are ready for the demo publisher.
 *   <li><b>Fine-tuning TorchScript</b> (the second kind): {@link
 *       com.modelmarket.serving.training.FineTuner} is the library, but it runs publisher code, so
 *       the platform calls it only through {@code ServingEngine.fineTune}, which runs it in the
 *       owner's sandboxed model host (frames {@code FINETUNE}/{@code CANCEL}, answered {@code
 *       FINETUNED} or {@code FAILED}) or, with serving.sandbox=off, in the JVM (trusted mode). Only
 *       tabular models fine-tune (one FP32 {@code [-1, N]} input, one FP32 {@code [-1, K]} output:
 *       a classifier with {@code labels}, or a one-value regressor); inputs stay raw, the model's
 *       own preprocessing is inside it. The tuned file is as untrusted as an upload: store it and
 *       load it like one. Not wired yet: jobs, billing and UI for it.
 * </ol>
 */
package com.modelmarket.serving.training;
