package com.modelmarket.serving.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts DJL's PyTorch engine once per JVM with explicit threading, offline. Natives come from the
 * {@code pytorch-native-*} jar on the class path (extracted to DJL's cache directory); nothing is
 * downloaded.
 */
public final class TorchRuntime {

    private static final Logger LOG = LoggerFactory.getLogger(TorchRuntime.class);
    private static final String ENGINE = "PyTorch";
    private static Engine engine;

    private TorchRuntime() {}

    /**
     * Starts the engine if needed and applies the thread counts. The arguments are the only source
     * of these settings (they come from {@code ServingConfig}); they are handed to DJL as its system
     * properties ({@code ai.djl.pytorch.num_threads}, {@code num_interop_threads}, {@code
     * graph_optimizer}), which DJL reads when the engine starts.
     *
     * @param intraOpThreads threads one operator may use: cores divided by concurrent workers
     * @param interOpThreads threads for running independent graph nodes in parallel
     * @param graphOptimizer whether TorchScript's profiling executor re-optimises graphs per shape
     */
    public static synchronized Engine start(
            int intraOpThreads, int interOpThreads, boolean graphOptimizer) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("tensors are exchanged little-endian; this host is not");
        }
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(intraOpThreads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", String.valueOf(interOpThreads));
        System.setProperty("ai.djl.pytorch.graph_optimizer", String.valueOf(graphOptimizer));
        if (engine == null) {
            engine = Engine.getEngine(ENGINE);
            LOG.info(
                    "PyTorch {} started: {} intra-op / {} inter-op threads, graph optimizer {}, {} GPU(s)",
                    engine.getVersion(),
                    JniUtils.getNumThreads(),
                    JniUtils.getNumInteropThreads(),
                    graphOptimizer,
                    engine.getGpuCount());
        }
        // intra-op threads may be changed at any time; the engine may have been started by others
        if (JniUtils.getNumThreads() != intraOpThreads) {
            JniUtils.setNumThreads(intraOpThreads);
            LOG.info("PyTorch intra-op threads set to {}", intraOpThreads);
        }
        return engine;
    }

    /**
     * Resolves a configured device name: {@code cpu}, or {@code gpu}/{@code gpu0}/{@code cuda:1}.
     * A GPU that is absent (no CUDA natives, no device) falls back to the CPU with a warning.
     */
    public static Device device(Engine engine, String name) {
        String n = name == null ? "cpu" : name.trim().toLowerCase(java.util.Locale.ROOT);
        if (n.isEmpty() || n.equals("cpu")) {
            return Device.cpu();
        }
        String id = n.replaceFirst("^(gpu|cuda)[:]?", "");
        int index = id.isEmpty() ? 0 : Integer.parseInt(id);
        if (index < engine.getGpuCount()) {
            return Device.gpu(index);
        }
        LOG.warn("device {} requested but {} GPU(s) visible to PyTorch; serving on CPU", name,
                engine.getGpuCount());
        return Device.cpu();
    }
}
