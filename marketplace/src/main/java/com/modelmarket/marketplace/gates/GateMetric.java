package com.modelmarket.marketplace.gates;

import java.util.List;
import java.util.Optional;

/** The metrics a gate may name, and which way is better. */
public enum GateMetric {
    ACCURACY("accuracy", true, true),
    MACRO_F1("macroF1", true, true),
    MAE("mae", false, false),
    RMSE("rmse", false, false);

    private final String wire;
    private final boolean higherIsBetter;
    private final boolean classification;

    GateMetric(String wire, boolean higherIsBetter, boolean classification) {
        this.wire = wire;
        this.higherIsBetter = higherIsBetter;
        this.classification = classification;
    }

    public String wire() {
        return wire;
    }

    public boolean classification() {
        return classification;
    }

    /** How much worse {@code candidate} is than {@code current} (negative: better). */
    public double worseBy(double current, double candidate) {
        return higherIsBetter ? current - candidate : candidate - current;
    }

    public static Optional<GateMetric> parse(String s) {
        for (GateMetric m : values()) {
            if (m.wire.equals(s)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    public static List<String> names() {
        return java.util.Arrays.stream(values()).map(GateMetric::wire).toList();
    }
}
