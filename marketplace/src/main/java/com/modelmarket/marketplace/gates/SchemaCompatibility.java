package com.modelmarket.marketplace.gates;

import com.modelmarket.serving.model.TensorSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether a candidate version can take the place of the current one without breaking callers,
 * judged on the manifests' inputs and outputs. A caller's request for the current version must
 * still be accepted: every input the candidate takes must exist in the current one with the same
 * datatype and rank, and each of its dimensions must be dynamic (-1) or equal the current one's
 * fixed size; an input the candidate has and the current one lacks breaks every request. A caller
 * must still read the answer: every output of the current version must exist in the candidate with
 * the same datatype, rank and labels, and each dimension the current version fixes must be the
 * same fixed size in the candidate (a dynamic one may become anything). Extra outputs are fine.
 */
public final class SchemaCompatibility {

    private SchemaCompatibility() {
    }

    /** What breaks, one sentence each; empty when compatible. */
    public static List<String> breakingChanges(JsonObject currentManifest, JsonObject candidateManifest) {
        List<String> out = new ArrayList<>();
        Map<String, TensorSpec> currentIn = specs(currentManifest.getJsonArray("inputs"));
        Map<String, TensorSpec> candidateIn = specs(candidateManifest.getJsonArray("inputs"));
        for (TensorSpec c : candidateIn.values()) {
            TensorSpec was = currentIn.get(c.name());
            if (was == null) {
                out.add("input " + c.name() + " is new: requests of the current version do not send it");
            } else {
                compare("input", was, c, true, out);
            }
        }
        for (String name : currentIn.keySet()) {
            if (!candidateIn.containsKey(name)) {
                out.add("input " + name + " is gone: requests that send it would be refused");
            }
        }
        Map<String, TensorSpec> currentOut = specs(currentManifest.getJsonArray("outputs"));
        Map<String, TensorSpec> candidateOut = specs(candidateManifest.getJsonArray("outputs"));
        for (TensorSpec was : currentOut.values()) {
            TensorSpec c = candidateOut.get(was.name());
            if (c == null) {
                out.add("output " + was.name() + " is gone");
            } else {
                compare("output", was, c, false, out);
                if (!was.labels().isEmpty() && !was.labels().equals(c.labels())) {
                    out.add("output " + was.name() + " labels change from " + was.labels() + " to " + c.labels());
                }
            }
        }
        return out;
    }

    private static void compare(String kind, TensorSpec was, TensorSpec now, boolean input, List<String> out) {
        String name = kind + " " + was.name();
        if (was.datatype() != now.datatype()) {
            out.add(name + " changes datatype from " + was.datatype().oipName() + " to " + now.datatype().oipName());
            return;
        }
        long[] a = was.shape();
        long[] b = now.shape();
        if (a.length != b.length) {
            out.add(name + " changes rank from " + a.length + " to " + b.length);
            return;
        }
        for (int i = 0; i < a.length; i++) {
            // inputs: the candidate must accept what the current accepts; outputs: give what it gave
            boolean fine = input ? (b[i] == TensorSpec.ANY || b[i] == a[i]) : (a[i] == TensorSpec.ANY || b[i] == a[i]);
            if (!fine) {
                out.add(name + " dimension " + i + " changes from " + dim(a[i]) + " to " + dim(b[i]));
            }
        }
    }

    private static String dim(long d) {
        return d == TensorSpec.ANY ? "-1 (dynamic)" : Long.toString(d);
    }

    private static Map<String, TensorSpec> specs(JsonArray list) {
        Map<String, TensorSpec> out = new LinkedHashMap<>();
        if (list != null) {
            for (int i = 0; i < list.size(); i++) {
                TensorSpec s = TensorSpec.fromJson(list.getJsonObject(i));
                out.put(s.name(), s);
            }
        }
        return out;
    }
}
