package com.modelmarket.serving.model;

import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads the code a TorchScript archive carries ({@code code/*.py}) and refuses, before anything
 * runs, archives that call file or process operations ({@code torch.from_file}, {@code save},
 * {@code load}) or operators outside PyTorch's own namespaces (custom {@code torch.ops.NS} and
 * {@code torch.classes}). This is a clear message for honest publishers, not the wall: code that
 * slips past it still runs only inside the sandboxed model host.
 */
public final class TorchScriptCode {

    /** Operator namespaces that ship with PyTorch itself. */
    private static final Set<String> CORE_NAMESPACES = Set.of("aten", "prim", "quantized", "_quantized");
    private static final Pattern FILE_OP = Pattern.compile(
            "\\b(?:torch|ops\\.aten)\\s*\\.\\s*(from_file|save|load|_load_for_mobile|_save_for_mobile)\\b");
    private static final Pattern OPS = Pattern.compile("\\bops\\s*\\.\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\.");
    private static final Pattern CLASSES = Pattern.compile("\\btorch\\s*\\.\\s*classes\\s*\\.\\s*([A-Za-z_][A-Za-z0-9_.]*)");
    private static final long MAX_CODE_BYTES = 64L << 20;

    private TorchScriptCode() {}

    /** @throws ModelRejectedException with {@link Check#UNSAFE_OP} naming the operator and the file */
    public static void check(Path archive) {
        long read = 0;
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                String name = entry.getName();
                if (!name.contains("/code/") || !name.endsWith(".py")) {
                    continue;
                }
                String code;
                try (InputStream in = zip.getInputStream(entry)) {
                    byte[] bytes = in.readNBytes((int) Math.min(MAX_CODE_BYTES - read, Integer.MAX_VALUE - 8) + 1);
                    read += bytes.length;
                    if (read > MAX_CODE_BYTES) {
                        throw reject("the archive carries more than " + MAX_CODE_BYTES + " bytes of code");
                    }
                    code = new String(bytes, StandardCharsets.UTF_8);
                }
                scan(name.substring(name.indexOf("/code/") + 1), code);
            }
        } catch (IOException e) {
            throw new ModelRejectedException(Check.FORMAT, "the archive cannot be read: " + e);
        }
    }

    static void scan(String file, String code) {
        Matcher fileOp = FILE_OP.matcher(code);
        if (fileOp.find()) {
            throw reject("the model's code calls torch." + fileOp.group(1) + " (" + file + "), a file operation;"
                    + " a served model may not read or write files");
        }
        Matcher ops = OPS.matcher(code);
        while (ops.find()) {
            if (!CORE_NAMESPACES.contains(ops.group(1))) {
                throw reject("the model's code calls torch.ops." + ops.group(1) + " (" + file + "), a custom"
                        + " operator namespace; only PyTorch's own (ATen) operators may be used");
            }
        }
        Matcher classes = CLASSES.matcher(code);
        if (classes.find()) {
            throw reject("the model's code uses the custom class torch.classes." + classes.group(1) + " (" + file
                    + "); only PyTorch's own operators may be used");
        }
    }

    private static ModelRejectedException reject(String reason) {
        return new ModelRejectedException(Check.UNSAFE_OP, reason);
    }
}
