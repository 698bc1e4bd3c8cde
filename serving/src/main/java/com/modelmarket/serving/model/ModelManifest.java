package com.modelmarket.serving.model;

import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What a model version promises: its named inputs and outputs (in the order the TorchScript
 * {@code forward} takes and returns them), an example input that must run, and the kind of file
 * it is served from ({@link ArtifactKind}).
 *
 * <p>JSON form: {@code {"name", "artifact", "inputs": [spec], "outputs": [spec], "example":
 * {"inputs": [tensor]}}}, with specs as in {@link TensorSpec#toJson()} and tensors in Open
 * Inference Protocol form. {@code artifact} is {@code "torchscript"} (the default when absent) or
 * {@code "trained-model"}; {@link #toJson()} writes it only when it is not the default, so the
 * manifests of TorchScript versions read as they always did. Other top-level keys are ignored.
 */
public record ModelManifest(String name, List<TensorSpec> inputs, List<TensorSpec> outputs,
        List<Tensor> example, ArtifactKind artifact) {

    public ModelManifest {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(artifact, "artifact");
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        example = List.copyOf(example);
        Optional<String> problem = problem(inputs, outputs, example);
        if (problem.isPresent()) {
            throw new ModelRejectedException(Check.MANIFEST, problem.get());
        }
        example = ordered(inputs, example);
    }

    /** A manifest of a TorchScript model. */
    public ModelManifest(String name, List<TensorSpec> inputs, List<TensorSpec> outputs, List<Tensor> example) {
        this(name, inputs, outputs, example, ArtifactKind.TORCHSCRIPT);
    }

    /** The same promises for a file of another kind. */
    public ModelManifest withArtifact(ArtifactKind kind) {
        return new ModelManifest(name, inputs, outputs, example, kind);
    }

    public Optional<TensorSpec> output(String outputName) {
        return outputs.stream().filter(s -> s.name().equals(outputName)).findFirst();
    }

    public int exampleItems() {
        return (int) example.get(0).items();
    }

    private static Optional<String> problem(
            List<TensorSpec> inputs, List<TensorSpec> outputs, List<Tensor> example) {
        if (inputs.isEmpty() || outputs.isEmpty()) {
            return Optional.of("a model needs at least one input and one output");
        }
        Set<String> names = new HashSet<>();
        for (TensorSpec spec : inputs) {
            if (!names.add("in:" + spec.name())) {
                return Optional.of("input " + spec.name() + " declared twice");
            }
        }
        for (TensorSpec spec : outputs) {
            if (!names.add("out:" + spec.name())) {
                return Optional.of("output " + spec.name() + " declared twice");
            }
        }
        if (example.isEmpty()) {
            return Optional.of("an example input is required");
        }
        Map<String, Tensor> byName =
                example.stream().collect(Collectors.toMap(Tensor::name, Function.identity(), (a, b) -> a));
        if (byName.size() != example.size() || !byName.keySet().equals(inputNames(inputs))) {
            return Optional.of(
                    "example inputs " + byName.keySet() + " must match declared inputs " + inputNames(inputs));
        }
        long items = example.get(0).items();
        for (TensorSpec spec : inputs) {
            Tensor t = byName.get(spec.name());
            Optional<String> mismatch = spec.mismatch(t);
            if (mismatch.isPresent()) {
                return Optional.of("example input " + mismatch.get());
            }
            if (t.items() != items || items < 1) {
                return Optional.of("example inputs must share a batch dimension of at least 1");
            }
        }
        return Optional.empty();
    }

    private static Set<String> inputNames(List<TensorSpec> inputs) {
        return inputs.stream().map(TensorSpec::name).collect(Collectors.toCollection(HashSet::new));
    }

    private static List<Tensor> ordered(List<TensorSpec> inputs, List<Tensor> example) {
        List<Tensor> out = new ArrayList<>();
        for (TensorSpec spec : inputs) {
            example.stream().filter(t -> t.name().equals(spec.name())).forEach(out::add);
        }
        return List.copyOf(out);
    }

    public JsonObject toJson() {
        JsonArray ex = new JsonArray();
        example.forEach(t -> ex.add(t.toJson()));
        JsonObject json = new JsonObject().put("name", name);
        if (artifact != ArtifactKind.TORCHSCRIPT) {
            json.put("artifact", artifact.jsonName());
        }
        return json
                .put("inputs", specsToJson(inputs))
                .put("outputs", specsToJson(outputs))
                .put("example", new JsonObject().put("inputs", ex));
    }

    private static JsonArray specsToJson(List<TensorSpec> specs) {
        JsonArray arr = new JsonArray();
        specs.forEach(s -> arr.add(s.toJson()));
        return arr;
    }

    /**
     * Parses a manifest.
     *
     * @throws ModelRejectedException with check {@link Check#MANIFEST} saying what is wrong
     */
    public static ModelManifest fromJson(JsonObject json) {
        try {
            String name = json.getString("name", "model");
            ArtifactKind artifact = artifact(json.getValue("artifact"));
            List<TensorSpec> inputs = specs(json.getJsonArray("inputs"), "inputs");
            List<TensorSpec> outputs = specs(json.getJsonArray("outputs"), "outputs");
            JsonObject example = json.getJsonObject("example");
            JsonArray exampleInputs = example == null ? null : example.getJsonArray("inputs");
            List<Tensor> tensors = new ArrayList<>();
            if (exampleInputs != null) {
                for (int i = 0; i < exampleInputs.size(); i++) {
                    tensors.add(Tensor.fromJson(exampleInputs.getJsonObject(i)));
                }
            }
            return new ModelManifest(name, inputs, outputs, tensors, artifact);
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            throw new ModelRejectedException(Check.MANIFEST, e.getMessage(), e);
        }
    }

    private static ArtifactKind artifact(Object value) {
        if (value != null && !(value instanceof String)) {
            throw new IllegalArgumentException("artifact must be a string, not " + value);
        }
        return ArtifactKind.fromJsonName((String) value);
    }

    private static List<TensorSpec> specs(JsonArray arr, String field) {
        if (arr == null) {
            throw new IllegalArgumentException("missing " + field);
        }
        List<TensorSpec> specs = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            specs.add(TensorSpec.fromJson(arr.getJsonObject(i)));
        }
        return specs;
    }
}
