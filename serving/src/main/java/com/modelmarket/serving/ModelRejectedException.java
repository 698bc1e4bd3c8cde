package com.modelmarket.serving;

import java.util.Locale;
import java.util.Objects;

/** An artifact or manifest failed one of the checks made before a model may serve. */
public final class ModelRejectedException extends ServingException {

    /** The check that failed, in the order they run. */
    public enum Check {
        /** The upload is larger than allowed. */
        SIZE,
        /** The manifest is malformed or inconsistent. */
        MANIFEST,
        /** The stored file is missing or no longer matches its SHA-256. */
        HASH,
        /**
         * The file is not an archive of the kind its manifest declares: not TorchScript (random bytes,
         * a pickle, a state dict, truncated), or not a trained model (other entries, another format
         * or version, truncated).
         */
        FORMAT,
        /** The archive's code calls file, process or non-ATen operators (read before anything runs). */
        UNSAFE_OP,
        /** PyTorch could not load the archive, or a trained model's parameters do not fit its block. */
        LOAD,
        /** Running the manifest's example input failed. */
        EXAMPLE,
        /**
         * The example's outputs do not match the declared output schema, or a trained model's
         * features and outputs do not fit the manifest's one input and one output.
         */
        SCHEMA,
        /** The model does not fit in the engine's memory budget. */
        MEMORY;

        /** The name clients see, e.g. {@code unsafe-op}. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    private final Check check;
    private final String reason;

    public ModelRejectedException(Check check, String reason) {
        this(check, reason, null);
    }

    public ModelRejectedException(Check check, String reason, Throwable cause) {
        super(check.wireName() + " check failed: " + reason, cause);
        this.check = Objects.requireNonNull(check);
        this.reason = reason;
    }

    public Check check() {
        return check;
    }

    public String reason() {
        return reason;
    }
}
