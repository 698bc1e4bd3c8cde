package com.modelmarket.serving.model;

import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Recognises a TorchScript archive before any native code sees the file. {@code torch.jit.save}
 * writes a zip holding {@code <root>/data.pkl}, {@code <root>/constants.pkl} and the scripted
 * source under {@code <root>/code/}; {@code torch.save} writes a zip with {@code data.pkl} but no
 * code (or, in its legacy form, a bare pickle), which PyTorch's C++ loader cannot run.
 */
public final class TorchScriptArchive {

    private static final int PICKLE_PROTO = 0x80;

    private TorchScriptArchive() {}

    /**
     * Checks the file's structure and reads every entry through (so truncation or corruption is
     * caught by the zip CRCs).
     *
     * @throws ModelRejectedException with {@link Check#FORMAT} saying what the file is instead
     */
    public static void check(Path file) {
        byte[] head = readHead(file);
        if (head.length == 0) {
            throw reject("the file is empty");
        }
        if (head.length < 4 || head[0] != 'P' || head[1] != 'K' || head[2] != 3 || head[3] != 4) {
            if ((head[0] & 0xFF) == PICKLE_PROTO) {
                throw reject("the file is a raw Python pickle (legacy torch.save), not a TorchScript zip"
                        + " archive; export the model with torch.jit.script or torch.jit.trace and"
                        + " torch.jit.save");
            }
            throw reject("the file is not a zip archive, so not a TorchScript model");
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            checkEntries(zip, Files.size(file));
        } catch (ZipException e) {
            throw reject("the zip archive is corrupt or truncated: " + e.getMessage());
        } catch (IOException e) {
            throw reject("the archive cannot be read: " + e);
        }
    }

    private static void checkEntries(ZipFile zip, long fileSize) throws IOException {
        Set<String> roots = new HashSet<>();
        Set<String> withData = new HashSet<>();
        Set<String> withConstants = new HashSet<>();
        Set<String> withCode = new HashSet<>();
        // TorchScript stores entries uncompressed; a far larger inflated size means a hostile file
        long budget = Math.max(4 * fileSize, 64L << 20);
        long inflated = 0;
        byte[] sink = new byte[64 * 1024];
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            ZipEntry entry = entries.nextElement();
            String name = entry.getName();
            int slash = name.indexOf('/');
            if (slash > 0) {
                String root = name.substring(0, slash);
                String rest = name.substring(slash + 1);
                roots.add(root);
                if (rest.equals("data.pkl")) {
                    withData.add(root);
                } else if (rest.equals("constants.pkl")) {
                    withConstants.add(root);
                } else if (rest.startsWith("code/")) {
                    withCode.add(root);
                }
            }
            try (InputStream in = zip.getInputStream(entry)) {
                for (int n = in.read(sink); n >= 0; n = in.read(sink)) {
                    inflated += n;
                    if (inflated > budget) {
                        throw reject("the archive inflates to more than " + budget + " bytes");
                    }
                }
            }
        }
        for (String root : roots) {
            if (withData.contains(root) && withConstants.contains(root) && withCode.contains(root)) {
                return;
            }
        }
        if (!withData.isEmpty() && withCode.isEmpty()) {
            throw reject("the archive is a torch.save pickle (data.pkl without code/, e.g. a"
                    + " state_dict), not TorchScript; export the model with torch.jit.script or"
                    + " torch.jit.trace and torch.jit.save");
        }
        throw reject("the zip archive lacks the TorchScript entries */data.pkl, */constants.pkl and"
                + " */code/");
    }

    private static byte[] readHead(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(4);
        } catch (IOException e) {
            throw reject("the file cannot be read: " + e);
        }
    }

    private static ModelRejectedException reject(String reason) {
        return new ModelRejectedException(Check.FORMAT, reason);
    }
}
