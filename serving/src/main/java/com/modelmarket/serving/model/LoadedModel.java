package com.modelmarket.serving.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A TorchScript model loaded into DJL's PyTorch engine. The module (weights) is shared; each
 * worker makes its own {@link Predictor} with {@link #newPredictor()} and must use it from one
 * thread at a time.
 */
public final class LoadedModel implements AutoCloseable {

    private final Model model;
    private final ModelManifest manifest;

    private LoadedModel(Model model, ModelManifest manifest) {
        this.model = model;
        this.manifest = manifest;
    }

    public static LoadedModel load(Path file, ModelManifest manifest, Device device)
            throws IOException, MalformedModelException {
        Model model = Model.newInstance(manifest.name(), device, "PyTorch");
        try {
            // mapLocation: weights saved from a CPU (or another GPU) land on the configured device
            model.load(file, null, Map.of("mapLocation", "true"));
            return new LoadedModel(model, manifest);
        } catch (IOException | MalformedModelException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public ModelManifest manifest() {
        return manifest;
    }

    public Device device() {
        return model.getNDManager().getDevice();
    }

    /** A predictor taking and returning tensors in manifest order, with no batchifier of its own. */
    public Predictor<NDList, NDList> newPredictor() {
        return model.newPredictor(new NoopTranslator());
    }

    /**
     * Runs one forward pass. Inputs must be in the manifest's input order; outputs come back in the
     * model's order, named after the manifest's outputs. Every native array made here is freed
     * before returning.
     */
    public List<Tensor> run(Predictor<NDList, NDList> predictor, List<Tensor> inputs)
            throws TranslateException {
        try (NDManager arrays = model.getNDManager().newSubManager()) {
            NDList in = new NDList(inputs.size());
            for (Tensor t : inputs) {
                in.add(toNd(arrays, t));
            }
            NDList out = predictor.predict(in);
            List<Tensor> result = new ArrayList<>(out.size());
            for (int i = 0; i < out.size(); i++) {
                String name =
                        i < manifest.outputs().size() ? manifest.outputs().get(i).name() : "output" + i;
                result.add(fromNd(name, out.get(i)));
            }
            out.close();
            return result;
        }
    }

    private static NDArray toNd(NDManager manager, Tensor t) {
        ByteBuffer buf = manager.allocateDirect(t.byteSize());
        buf.put(t.data());
        buf.rewind();
        return manager.create(buf, new Shape(t.shape()), toDjl(t.datatype()));
    }

    private static Tensor fromNd(String name, NDArray array) {
        return Tensor.wrap(
                name, fromDjl(array.getDataType()), array.getShape().getShape(), array.toByteArray());
    }

    static ai.djl.ndarray.types.DataType toDjl(DataType type) {
        return switch (type) {
            case BOOL -> ai.djl.ndarray.types.DataType.BOOLEAN;
            case UINT8 -> ai.djl.ndarray.types.DataType.UINT8;
            case INT8 -> ai.djl.ndarray.types.DataType.INT8;
            case INT16 -> ai.djl.ndarray.types.DataType.INT16;
            case INT32 -> ai.djl.ndarray.types.DataType.INT32;
            case INT64 -> ai.djl.ndarray.types.DataType.INT64;
            case FP32 -> ai.djl.ndarray.types.DataType.FLOAT32;
            case FP64 -> ai.djl.ndarray.types.DataType.FLOAT64;
        };
    }

    static DataType fromDjl(ai.djl.ndarray.types.DataType type) {
        return switch (type) {
            case BOOLEAN -> DataType.BOOL;
            case UINT8 -> DataType.UINT8;
            case INT8 -> DataType.INT8;
            case INT16 -> DataType.INT16;
            case INT32 -> DataType.INT32;
            case INT64 -> DataType.INT64;
            case FLOAT32 -> DataType.FP32;
            case FLOAT64 -> DataType.FP64;
            default -> throw new IllegalStateException("the model returned unsupported type " + type);
        };
    }

    @Override
    public void close() {
        model.close();
    }
}
