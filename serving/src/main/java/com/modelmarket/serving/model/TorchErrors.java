package com.modelmarket.serving.model;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Shortens PyTorch errors, which append long C++ and TorchScript traces, to their reason. */
public final class TorchErrors {

    private static final int MAX = 400;
    private static final Pattern PY_ERROR =
            Pattern.compile("(?m)^\\s*([\\w.]+(Error|Exception): .+)$");

    private TorchErrors() {}

    /** The root cause's message: its last {@code SomethingError: reason} line, or first line. */
    public static String brief(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = root.getMessage() != null ? root.getMessage().strip() : root.toString();
        String reason = null;
        Matcher m = PY_ERROR.matcher(msg);
        while (m.find()) {
            reason = m.group(1).strip();
        }
        if (reason == null) {
            int nl = msg.indexOf('\n');
            reason = nl > 0 ? msg.substring(0, nl).strip() : msg;
        }
        return reason.length() > MAX ? reason.substring(0, MAX) + "..." : reason;
    }
}
