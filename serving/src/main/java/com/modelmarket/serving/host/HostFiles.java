package com.modelmarket.serving.host;

import com.modelmarket.serving.store.StoredArtifact;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The files of the model hosts: their folders, the tenants' artifacts linked into them, cleanup. */
final class HostFiles {

    private static final Logger LOG = LoggerFactory.getLogger(HostFiles.class);

    private HostFiles() {}

    /** The tenant's artifact in its host's model folder: a hard link into the store, or a copy. */
    static Path link(StoredArtifact artifact, Path modelsDir) throws IOException {
        Path target = modelsDir.resolve(artifact.sha256() + ".pt");
        if (Files.exists(target)) {
            return target;
        }
        try {
            Files.createLink(target, artifact.path());
        } catch (FileAlreadyExistsException e) {
            return target;
        } catch (IOException | UnsupportedOperationException e) {
            Path tmp = modelsDir.resolve(artifact.sha256() + ".tmp");
            Files.copy(artifact.path(), tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        }
        return target;
    }

    /** A short, file-name-safe folder name for an owner. */
    static String dirName(String owner) {
        String safe = owner.replaceAll("[^A-Za-z0-9_-]", "");
        if (safe.length() > 40 || safe.isEmpty()) {
            safe = HexFormat.of().formatHex(Integer.toString(owner.hashCode()).getBytes(StandardCharsets.US_ASCII));
        }
        return safe;
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // left for the next start
                }
            });
        } catch (IOException e) {
            LOG.debug("cannot clean {}: {}", dir, e.toString());
        }
    }
}
