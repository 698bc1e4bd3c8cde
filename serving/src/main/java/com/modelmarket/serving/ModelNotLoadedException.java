package com.modelmarket.serving;

/** No model version is registered under the key (never loaded, or unloaded explicitly). */
public final class ModelNotLoadedException extends ServingException {

    public ModelNotLoadedException(ModelKey key) {
        super("model " + key + " is not loaded");
    }
}
