package com.modelmarket.serving.host;

import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.engine.ModelRuntime;
import com.modelmarket.serving.model.ModelManifest;
import java.nio.file.Path;

/** A model loaded in a model host, known there by {@code handle}; closing it unloads it from the host. */
record HostedModel(ModelKey key, ModelManifest manifest, ModelHost host, String handle, Path file,
        HostedRuntime runtime) implements ModelRuntime.Model {
    @Override
    public void close() {
        runtime.unload(this);
    }
}
