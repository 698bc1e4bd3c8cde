package com.modelmarket.bench.market;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the load asks for: a scenario is a model kind and a body encoding ({@code light json},
 * {@code heavy json}, {@code heavy binary}), from the options and the bench's models.
 */
final class BenchScenarios {

    private final BenchOptions options;
    private final List<BenchModel> models;

    BenchScenarios(BenchOptions options, List<BenchModel> models) {
        this.options = options;
        this.models = models;
    }

    /** {@code light json}, {@code heavy json}, {@code heavy binary}: a model and a body encoding. */
    List<String> all() {
        List<String> all = new ArrayList<>();
        options.lightEncodings().forEach(e -> all.add("light " + e));
        options.heavyEncodings().forEach(e -> all.add("heavy " + e));
        return all;
    }

    /** The open loop runs the light model's first encoding and the heavy model's last (binary by default). */
    List<String> open() {
        List<String> all = new ArrayList<>();
        if (!options.lightEncodings().isEmpty()) {
            all.add("light " + options.lightEncodings().get(0));
        }
        if (!options.heavyEncodings().isEmpty()) {
            all.add("heavy " + options.heavyEncodings().get(options.heavyEncodings().size() - 1));
        }
        return all;
    }

    BenchModel model(String scenario) {
        String kind = scenario.split(" ")[0];
        return models.stream().filter(m -> m.kind().equals(kind)).findFirst().orElseThrow();
    }

    static BenchModel.Encoding encoding(String scenario) {
        return BenchModel.Encoding.valueOf(scenario.split(" ")[1].toUpperCase(Locale.ROOT));
    }

    /** The inference request of {@code scenario}, with {@code apiKey} (null for the peer). */
    LoadTarget target(String scenario, String apiKey) {
        return model(scenario).inferTarget(apiKey, encoding(scenario));
    }
}
