package com.modelmarket.serving.training;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

/**
 * The layout of a {@link TrainedModel#FORMAT} archive, read without DJL: exactly the entries
 * {@value #META_ENTRY} and {@value #PARAMS_ENTRY}, each once and under its size cap, the first a
 * JSON object of this format and version. {@link TrainedModel#read} reads an archive through here
 * before it builds the block; the serving platform {@link #check}s a stored file the same way
 * before a model is loaded, streaming the parameters past without keeping them. Both read the
 * zip as a stream of its entries, so what is checked is what is loaded; the check also reads the
 * zip's directory first, so that it names what another kind of zip holds.
 */
public final class TrainedModelArchive {

    public static final String META_ENTRY = "trained-model.json";
    public static final String PARAMS_ENTRY = "model.params";
    private static final long MAX_META_BYTES = 4L << 20;
    private static final long MAX_PARAMS_BYTES = 512L << 20;
    private static final int MAX_NAMES_SHOWN = 5;

    /** What an archive serves per row: {@code featureCount} values in, {@code outputCount} out. */
    public record Header(int featureCount, int outputCount) {}

    /** The two entries, as {@link TrainedModel#read} needs them. */
    record Contents(JsonObject meta, byte[] params) {}

    private TrainedModelArchive() {}

    /**
     * Checks a file's structure and its metadata's format, version, features and labels, reading
     * every byte (so truncation is caught); the parameters are not parsed.
     *
     * @throws ArtifactRejectedException saying what is wrong
     */
    public static Header check(Path file) throws IOException {
        checkNames(file);
        try (InputStream in = Files.newInputStream(file)) {
            return header(scan(in, false).meta());
        }
    }

    /**
     * The zip's directory names exactly the two entries. Read first, so that another kind of zip
     * (a TorchScript archive, say) is refused by what it holds rather than by how it is packed.
     */
    private static void checkNames(Path file) throws IOException {
        List<String> names = new ArrayList<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            zip.stream().limit(MAX_NAMES_SHOWN + 1L).forEach(e -> names.add(e.getName()));
            if (zip.size() == 2 && names.contains(META_ENTRY) && names.contains(PARAMS_ENTRY)) {
                return;
            }
            String shown = String.join(", ", names.subList(0, Math.min(names.size(), MAX_NAMES_SHOWN)))
                    + (zip.size() > MAX_NAMES_SHOWN ? ", ..." : "");
            throw new ArtifactRejectedException("the archive holds " + zip.size() + " entries (" + shown
                    + "); a trained model holds exactly " + META_ENTRY + " and " + PARAMS_ENTRY);
        } catch (ZipException e) {
            throw new ArtifactRejectedException("the file is not a zip archive, or a corrupt or truncated one: "
                    + e.getMessage(), e);
        }
    }

    /** Reads both entries (see {@link #check}). */
    static Contents read(InputStream in) throws IOException {
        return scan(in, true);
    }

    private static Contents scan(InputStream in, boolean keepParams) throws IOException {
        byte[] meta = null;
        byte[] params = null;
        boolean sawParams = false;
        try (ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                String name = e.getName();
                if ((name.equals(META_ENTRY) && meta != null) || (name.equals(PARAMS_ENTRY) && sawParams)) {
                    throw new ArtifactRejectedException("entry '" + name + "' appears twice in a trained model");
                } else if (name.equals(META_ENTRY)) {
                    meta = readCapped(zip, MAX_META_BYTES, name, true);
                } else if (name.equals(PARAMS_ENTRY)) {
                    sawParams = true;
                    params = readCapped(zip, MAX_PARAMS_BYTES, name, keepParams);
                } else {
                    throw new ArtifactRejectedException("unexpected entry '" + name + "' in a trained model");
                }
            }
        } catch (ZipException e) {
            throw new ArtifactRejectedException("the zip archive cannot be read: " + e.getMessage(), e);
        } catch (EOFException e) {
            throw new ArtifactRejectedException("the archive is truncated", e);
        }
        if (meta == null || !sawParams) {
            throw new ArtifactRejectedException("a trained model needs " + META_ENTRY + " and " + PARAMS_ENTRY
                    + (meta == null && !sawParams ? "; this is not a trained model archive" : ""));
        }
        JsonObject json;
        try {
            json = new JsonObject(new String(meta, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new ArtifactRejectedException(META_ENTRY + " is not a JSON object", e);
        }
        Object format = json.getValue("format");
        Object version = json.getValue("formatVersion");
        if (!TrainedModel.FORMAT.equals(format) || !Integer.valueOf(TrainedModel.FORMAT_VERSION).equals(version)) {
            throw new ArtifactRejectedException(META_ENTRY + " says format " + format + " version " + version
                    + "; expected " + TrainedModel.FORMAT + " version " + TrainedModel.FORMAT_VERSION);
        }
        return new Contents(json, params);
    }

    /** Features and outputs per row, from the metadata alone. */
    private static Header header(JsonObject meta) {
        try {
            TrainingTask task = TrainingTask.parse(meta.getString("task"));
            JsonArray features = meta.getJsonArray("features");
            JsonArray labels = meta.getJsonArray("labels");
            if (task == null || features == null || features.isEmpty() || labels == null
                    || (task == TrainingTask.CLASSIFICATION) == labels.isEmpty()) {
                throw new ArtifactRejectedException(META_ENTRY + " lacks a task, features or labels that fit"
                        + " each other");
            }
            return new Header(features.size(), task == TrainingTask.CLASSIFICATION ? labels.size() : 1);
        } catch (ClassCastException e) {
            throw new ArtifactRejectedException(META_ENTRY + " is incomplete: " + e.getMessage(), e);
        }
    }

    /** The entry's bytes, or null when not {@code keep}; refused past {@code cap} either way. */
    private static byte[] readCapped(InputStream in, long cap, String name, boolean keep) throws IOException {
        ByteArrayOutputStream out = keep ? new ByteArrayOutputStream() : null;
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
            total += n;
            if (total > cap) {
                throw new ArtifactRejectedException(name + " is larger than " + cap + " bytes");
            }
            if (keep) {
                out.write(buf, 0, n);
            }
        }
        return keep ? out.toByteArray() : null;
    }
}
