package com.modelmarket.marketplace.util;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Files that hold secrets (keys, demo credentials) and the folders they live in: created owner-only
 * from the first byte (the permission is part of the create call, so no umask and no window between
 * create and chmod leaves them readable by others), and tightened if an earlier version left them
 * looser. A JVM cannot set its process umask; the data directory itself is kept at 0700, so whatever
 * else lands inside it is out of other users' reach. Blocking file IO: call from a worker thread.
 */
public final class PrivateFiles {

    private static final Logger LOG = LoggerFactory.getLogger(PrivateFiles.class);
    private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private PrivateFiles() {}

    /** Creates the folder (and its parents) if needed and makes it owner-only (0700). */
    public static Path directory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            try {
                Files.createDirectories(dir.getParent() == null ? dir : dir.getParent());
                Files.createDirectory(dir, attribute(DIR));
            } catch (FileAlreadyExistsException e) {
                // made meanwhile
            }
        }
        tighten(dir, DIR);
        return dir;
    }

    /** Writes a secret atomically: a 0600 temporary file beside it, then a rename. */
    public static void write(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try (SeekableByteChannel ch = Files.newByteChannel(tmp, EnumSet.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), attribute(FILE))) {
            ByteBuffer buf = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }
        tighten(tmp, FILE);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Makes an existing secret file owner-only, saying so if it was not. */
    public static void tightenFile(Path file) throws IOException {
        if (Files.isRegularFile(file)) {
            tighten(file, FILE);
        }
    }

    private static void tighten(Path p, Set<PosixFilePermission> wanted) throws IOException {
        try {
            Set<PosixFilePermission> now = Files.getPosixFilePermissions(p);
            if (!now.equals(wanted)) {
                Files.setPosixFilePermissions(p, wanted);
                LOG.warn("{} was {}; made it {}", p, PosixFilePermissions.toString(now), PosixFilePermissions.toString(wanted));
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the operator's folder permissions are all there is
        }
    }

    private static FileAttribute<?>[] attribute(Set<PosixFilePermission> perms) {
        try {
            return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(perms)};
        } catch (UnsupportedOperationException e) {
            return new FileAttribute<?>[0];
        }
    }
}
