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
 * trainer does not change PyTorch's thread settings: whoever runs it starts the engine ({@code
 * TorchRuntime.start}) with one intra-op thread — a job host does, with {@code
 * TrainingOptions.threads()}, and the tests do; results are reproducible with one intra-op thread,
 * and the same in a job host as in the calling JVM ({@code HostedTrainingTest}). A {@link com.modelmarket.serving.training.TrainedModel}
 * serialises its {@code predict} calls (one at a time per model), so the workers of one served
 * version may share it.
 *
 * <h2>Where the platform uses it</h2>
 *
 * The marketplace's {@code training} package: datasets ({@code CsvDataset.parse} on an upload,
 * refusals as 422 naming row and column), algorithms ({@code TrainingRecipe.fromJson} when a card is
 * published), training jobs bounded per node ({@code resolve}, then {@code ServingEngine.train}, which
 * runs {@code RecipeTrainer} in a sandboxed job host of its own at the job's {@link
 * com.modelmarket.serving.training.JobPriority}: frames {@code TRAIN}/{@code PROGRESS}/{@code CANCEL},
 * answered {@code TRAINED} or {@code FAILED}; cancellation and time limit through {@code
 * TrainingOptions}, progress per epoch), the result stored
 * like an upload and published as a private version whose manifest keeps {@code artifact}; and a job
 * metered once by its id. Fine-tuning TorchScript (the second kind): {@link
 * com.modelmarket.serving.training.FineTuner} runs publisher code, so the platform calls it only
 * through {@code ServingEngine.fineTune}, which runs it in a sandboxed job host of the owner's, of its
 * own for the job (frames {@code FINETUNE}/{@code PROGRESS}/{@code CANCEL}, answered {@code FINETUNED} or {@code FAILED}) or, with
 * serving.sandbox=off, in the JVM (trusted mode). Only tabular models fine-tune (one FP32 {@code
 * [-1, N]} input, one FP32 {@code [-1, K]} output: a classifier with {@code labels}, or a one-value
 * regressor); inputs stay raw, the model's own preprocessing is inside it. The tuned file is as
 * untrusted as an upload: the marketplace stores and validates it like one.
 */
package com.modelmarket.serving.training;
