package com.modelmarket.marketplace.inference;

import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TensorSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Labelled feedback on a call: a caller that knows the true answer (replayed labelled traffic, a
 * canary check) sends it as {@code parameters.label} — one label, or an array of one per item —
 * and the answering version's top class (on its first output with labels) is compared with it.
 * Read only for calls routed through a split.
 */
final class SplitFeedback {

    private SplitFeedback() {
    }

    /** The labels the caller sent (empty: none); 400 naming the field when malformed. */
    static List<String> labels(JsonObject body, int items) {
        if (body == null || !(body.getValue("parameters") instanceof JsonObject p) || !p.containsKey("label")) {
            return List.of();
        }
        Object raw = p.getValue("label");
        List<String> labels = new ArrayList<>();
        if (raw instanceof String one) {
            labels.add(one);
        } else if (raw instanceof JsonArray list) {
            for (int i = 0; i < list.size(); i++) {
                if (!(list.getValue(i) instanceof String s)) {
                    throw new InvalidFieldException("/parameters/label/" + i, "must be a label (a string)");
                }
                labels.add(s);
            }
        } else {
            throw new InvalidFieldException("/parameters/label", "must be a label, or an array of one per item");
        }
        if (labels.size() != items) {
            throw new InvalidFieldException("/parameters/label", "has " + labels.size() + " label(s) for " + items + " item(s)");
        }
        return labels;
    }

    /** How many items' top class equals their label; empty if the answer has no labelled output. */
    static Optional<Integer> score(ModelManifest manifest, InferenceResult result, List<String> labels) {
        for (TensorSpec spec : manifest.outputs()) {
            if (spec.labels().isEmpty()) {
                continue;
            }
            Optional<Tensor> out = result.outputs().stream().filter(t -> t.name().equals(spec.name())).findFirst();
            if (out.isEmpty() || out.get().rank() != 2 || out.get().dim(1) != spec.labels().size()) {
                return Optional.empty();
            }
            int width = spec.labels().size();
            int correct = 0;
            for (int item = 0; item < labels.size(); item++) {
                int best = 0;
                for (int k = 1; k < width; k++) {
                    if (out.get().getAsDouble(item * width + k) > out.get().getAsDouble(item * width + best)) {
                        best = k;
                    }
                }
                correct += spec.labels().get(best).equals(labels.get(item)) ? 1 : 0;
            }
            return Optional.of(correct);
        }
        return Optional.empty();
    }
}
