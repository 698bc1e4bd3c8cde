package com.modelmarket.serving.training;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A recipe-trained model, servable: standardises raw feature rows and returns, per row, the
 * softmax probabilities of each label (classification) or one value (regression), as float.
 *
 * <p>Stored as a zip ({@link #FORMAT}) of two entries, written in a fixed order with fixed
 * timestamps so the same parameters give the same bytes and the same SHA-256:
 *
 * <ul>
 *   <li>{@code trained-model.json}: format and version, the recipe as published, the resolved
 *       hyperparameters, the task, feature names in input order, label names in output order, the
 *       standardisation learned on the training split;
 *   <li>{@code model.params}: the block's parameters in DJL's own format ({@link
 *       Block#saveParameters}), loadable only into the block the recipe and hyperparameters
 *       define, which {@link #load} rebuilds.
 * </ul>
 *
 * <p>Thread-safe by serialisation: {@link #predict} and {@link #close} are synchronized on the
 * model, so the calls of several workers on one model run one after another. The block, its
 * parameters and the manager every call's arrays hang from are shared, and DJL promises nothing
 * about concurrent use of one block; a forward pass of these small blocks takes microseconds, so
 * one model per worker would cost memory for no throughput worth having. Close it to free its
 * native memory; a call after {@code close} fails.
 */
public final class TrainedModel implements AutoCloseable {

    public static final String FORMAT = "modelmarket.trained-model";
    public static final int FORMAT_VERSION = 1;
    /** The manifest's {@code artifact} for this format (the library stays free of the engine's types). */
    static final String MANIFEST_ARTIFACT = "trained-model";
    // a fixed local time: setTime would convert through the JVM's time zone and change the bytes
    private static final java.time.LocalDateTime ZIP_TIME = java.time.LocalDateTime.of(1980, 1, 1, 0, 0);

    private final TrainingRecipe recipe;
    private final Hyperparameters hyperparameters;
    private final List<String> featureNames;
    private final List<String> labels;
    private final Standardization standardization;
    private final byte[] params;
    private final NDManager manager;
    private final Block block;
    private boolean closed;

    TrainedModel(TrainingRecipe recipe, Hyperparameters hyperparameters, List<String> featureNames,
            List<String> labels, Standardization standardization, byte[] params) {
        this.recipe = recipe;
        this.hyperparameters = hyperparameters;
        this.featureNames = List.copyOf(featureNames);
        this.labels = List.copyOf(labels);
        this.standardization = standardization;
        this.params = params.clone();
        this.manager = NDManager.newBaseManager(RecipeTrainer.ENGINE);
        try {
            this.block = RecipeBlocks.build(recipe, hyperparameters, outputCount());
            block.setInitializer(Initializer.ZEROS, p -> true);
            block.initialize(manager, DataType.FLOAT32, new Shape(1, featureNames.size()));
            block.loadParameters(manager, new DataInputStream(new ByteArrayInputStream(this.params)));
        } catch (IOException | MalformedModelException | RuntimeException e) {
            manager.close();
            throw new ArtifactRejectedException("the parameters do not fit the recipe's block: "
                    + (e.getMessage() != null ? e.getMessage() : e.toString()), e);
        }
    }

    /**
     * Runs a batch of raw rows (features in {@link #featureNames()} order, NaN = missing). Calls
     * on one model run one at a time.
     *
     * @return per row: probabilities per label (classification) or {@code [value]} (regression)
     */
    public synchronized float[][] predict(float[][] rows) {
        int f = featureNames.size();
        int k = outputCount();
        float[][] out = new float[rows.length][];
        if (closed) {
            throw new IllegalStateException("the trained model is closed");
        }
        if (rows.length == 0) {
            return out;
        }
        float[] scaled = standardization.apply(rows);
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.create(scaled, new Shape(rows.length, f));
            NDArray y = block.forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow();
            if (task() == TrainingTask.CLASSIFICATION) {
                y = y.softmax(1);
            }
            float[] flat = y.toFloatArray();
            for (int r = 0; r < rows.length; r++) {
                out[r] = new float[k];
                System.arraycopy(flat, r * k, out[r], 0, k);
                if (task() == TrainingTask.REGRESSION) {
                    out[r][0] = standardization.unscaleTarget(out[r][0]);
                }
            }
        }
        return out;
    }

    public TrainingTask task() {
        return recipe.task();
    }

    public TrainingRecipe recipe() {
        return recipe;
    }

    public Hyperparameters hyperparameters() {
        return hyperparameters;
    }

    /** Input feature names, in the order {@link #predict} takes them. */
    public List<String> featureNames() {
        return featureNames;
    }

    /** Label names in output order (classification); empty for regression. */
    public List<String> labels() {
        return labels;
    }

    public Standardization standardization() {
        return standardization;
    }

    /** Values per output row: the label count, or 1. */
    public int outputCount() {
        return recipe.task() == TrainingTask.CLASSIFICATION ? labels.size() : 1;
    }

    /** The archive's descriptive entry (also what a manifest can be derived from). */
    public JsonObject describe() {
        return new JsonObject()
                .put("format", FORMAT)
                .put("formatVersion", FORMAT_VERSION)
                .put("task", task().jsonName())
                .put("recipe", recipe.toJson())
                .put("hyperparameters", hyperparameters.toJson())
                .put("features", new JsonArray(List.copyOf(featureNames)))
                .put("labels", new JsonArray(List.copyOf(labels)))
                .put("standardization", standardization.toJson());
    }

    /**
     * The serving manifest this model's version gets, derived from the dataset: one input {@code
     * features} (FP32, {@code [-1, N]}, columns in {@link #featureNames()} order) and one output,
     * {@code probabilities} ({@code [-1, labels]}, with the label names as the spec's {@code
     * labels}) or {@code value} ({@code [-1, 1]}). The example row is the training split's feature
     * means. {@code "artifact": "trained-model"} tells the engine to load the archive as what it
     * is ({@link com.modelmarket.serving.model.ArtifactKind#TRAINED_MODEL}). The other top-level
     * keys ({@code features}, {@code task}) are for cards and clients; {@link
     * com.modelmarket.serving.model.ModelManifest#fromJson} ignores them.
     */
    public JsonObject manifestJson(String name) {
        int n = featureNames.size();
        JsonArray example = new JsonArray();
        for (float v : standardization.mean()) {
            example.add((double) v);
        }
        JsonObject output = new JsonObject()
                .put("name", task() == TrainingTask.CLASSIFICATION ? "probabilities" : "value")
                .put("datatype", "FP32")
                .put("shape", new JsonArray().add(-1).add(outputCount()));
        if (!labels.isEmpty()) {
            output.put("labels", new JsonArray(List.copyOf(labels)));
        }
        return new JsonObject()
                .put("name", name)
                .put("artifact", MANIFEST_ARTIFACT)
                .put("task", task().jsonName())
                .put("inputs", new JsonArray().add(new JsonObject().put("name", "features")
                        .put("datatype", "FP32").put("shape", new JsonArray().add(-1).add(n))))
                .put("outputs", new JsonArray().add(output))
                .put("example", new JsonObject().put("inputs", new JsonArray().add(new JsonObject()
                        .put("name", "features").put("datatype", "FP32")
                        .put("shape", new JsonArray().add(1).add(n)).put("data", example))))
                .put("features", new JsonArray(List.copyOf(featureNames)));
    }

    /** Writes the archive; returns the SHA-256 (hex) of the bytes written. */
    public String writeTo(OutputStream out) throws IOException {
        MessageDigest digest = sha256();
        DigestOutputStream hashing = new DigestOutputStream(out, digest);
        ZipOutputStream zip = new ZipOutputStream(hashing);
        writeEntry(zip, TrainedModelArchive.META_ENTRY, describe().encodePrettily().getBytes(StandardCharsets.UTF_8));
        writeEntry(zip, TrainedModelArchive.PARAMS_ENTRY, params);
        zip.finish();
        hashing.flush();
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Writes the archive to a file atomically (a temporary file renamed); returns its SHA-256. */
    public String save(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path part = Files.createTempFile(dir, ".trained-", ".part");
        try {
            String sha;
            try (OutputStream out = Files.newOutputStream(part)) {
                sha = writeTo(out);
            }
            Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return sha;
        } finally {
            Files.deleteIfExists(part);
        }
    }

    /**
     * Loads an archive written by {@link #save}: checks the format, rebuilds the block from the
     * recipe and hyperparameters, and loads the parameters into it.
     *
     * @throws ArtifactRejectedException not an archive of this format, an unknown or missing entry,
     *     an entry over its size cap, metadata that does not parse, parameters that do not fit
     */
    public static TrainedModel load(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in);
        }
    }

    /** Reads an archive from a stream (see {@link #load}). */
    public static TrainedModel read(InputStream in) throws IOException {
        TrainedModelArchive.Contents entries = TrainedModelArchive.read(in);
        JsonObject meta = entries.meta();
        try {
            TrainingRecipe recipe = TrainingRecipe.fromJson(meta.getJsonObject("recipe"));
            JsonObject hp = meta.getJsonObject("hyperparameters");
            Hyperparameters hyper = new Hyperparameters(hp.getInteger("epochs"), hp.getDouble("learningRate"),
                    hp.getInteger("batchSize"), hp.getJsonArray("hiddenSizes").stream()
                            .map(o -> ((Number) o).intValue()).toList(),
                    hp.getDouble("weightDecay"), hp.getInteger("earlyStoppingPatience"),
                    hp.getDouble("validationFraction"), hp.getLong("seed"));
            List<String> features = strings(meta.getJsonArray("features"));
            List<String> labels = strings(meta.getJsonArray("labels"));
            if (features.isEmpty() || (recipe.task() == TrainingTask.CLASSIFICATION) != !labels.isEmpty()) {
                throw new ArtifactRejectedException("features or labels do not fit the task");
            }
            Standardization s = Standardization.fromJson(meta.getJsonObject("standardization"), features.size());
            return new TrainedModel(recipe, hyper, features, labels, s, entries.params());
        } catch (ArtifactRejectedException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ArtifactRejectedException(TrainedModelArchive.META_ENTRY + " is incomplete: "
                    + e.getMessage(), e);
        }
    }

    private static List<String> strings(JsonArray a) {
        return a.stream().map(o -> (String) o).toList();
    }

    private static void writeEntry(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setTimeLocal(ZIP_TIME);
        zip.putNextEntry(e);
        zip.write(bytes);
        zip.closeEntry();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        manager.close();
    }
}
