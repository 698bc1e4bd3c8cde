package com.modelmarket.serving.training;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * One hyperparameter a recipe exposes to its users: its default and its range (for {@code
 * int-list}, the range of each element and the longest list).
 *
 * @param defaultValue a {@code Long} (int), {@code Double} (double) or {@code List<Integer>}
 */
public record HyperparameterSpec(Hyperparameter name, Object defaultValue, double min, double max,
        int maxItems) {

    /** Parses and checks one entry of a recipe's {@code hyperparameters} object. */
    static HyperparameterSpec fromJson(Hyperparameter h, Object json, String pointer) {
        if (!(json instanceof JsonObject o)) {
            throw new InvalidFieldException(pointer, "must be an object {type, default, min, max}");
        }
        for (String key : o.fieldNames()) {
            if (!List.of("type", "default", "min", "max", "maxItems", "description").contains(key)) {
                throw new InvalidFieldException(pointer + "/" + Pointers.escape(key), "unknown field");
            }
        }
        Object type = o.getValue("type");
        if (!h.type().jsonName().equals(type)) {
            throw new InvalidFieldException(pointer + "/type",
                    h.jsonName() + " has type " + h.type().jsonName() + ", not " + type);
        }
        double min = bound(o, "min", h.min(), h, pointer);
        double max = bound(o, "max", h.max(), h, pointer);
        if (min > max) {
            throw new InvalidFieldException(pointer + "/min", "min " + min + " is above max " + max);
        }
        int maxItems = Hyperparameter.MAX_HIDDEN_LAYERS;
        if (o.containsKey("maxItems")) {
            if (h.type() != Hyperparameter.Type.INT_LIST) {
                throw new InvalidFieldException(pointer + "/maxItems", "only an int-list has maxItems");
            }
            Object m = o.getValue("maxItems");
            if (!(m instanceof Integer i) || i < 1 || i > Hyperparameter.MAX_HIDDEN_LAYERS) {
                throw new InvalidFieldException(pointer + "/maxItems",
                        "must be an integer in [1, " + Hyperparameter.MAX_HIDDEN_LAYERS + "]");
            }
            maxItems = i;
        }
        if (!o.containsKey("default")) {
            throw new InvalidFieldException(pointer + "/default", "a default is required");
        }
        HyperparameterSpec bounds = new HyperparameterSpec(h, h.platformDefault(), min, max, maxItems);
        Object dflt = bounds.check(o.getValue("default"), pointer + "/default");
        return new HyperparameterSpec(h, dflt, min, max, maxItems);
    }

    private static double bound(JsonObject o, String key, double platform, Hyperparameter h,
            String pointer) {
        if (!o.containsKey(key)) {
            return platform;
        }
        Object v = o.getValue(key);
        if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
            throw new InvalidFieldException(pointer + "/" + key, "must be a number");
        }
        double d = n.doubleValue();
        if (d < h.min() || d > h.max()) {
            throw new InvalidFieldException(pointer + "/" + key,
                    d + " is outside the platform's range [" + h.min() + ", " + h.max() + "]");
        }
        if (h.type() != Hyperparameter.Type.DOUBLE && d != Math.rint(d)) {
            throw new InvalidFieldException(pointer + "/" + key, "must be an integer");
        }
        return d;
    }

    /**
     * Checks a value against this spec and returns it normalised (Long, Double or List of Integer).
     *
     * @throws InvalidFieldException naming {@code pointer}: wrong type or out of range
     */
    Object check(Object value, String pointer) {
        switch (name.type()) {
            case INT -> {
                long v = integer(value, pointer);
                inRange(v, pointer);
                return v;
            }
            case DOUBLE -> {
                if (!(value instanceof Number n) || !Double.isFinite(n.doubleValue())) {
                    throw new InvalidFieldException(pointer, "must be a number (double), got " + describe(value));
                }
                inRange(n.doubleValue(), pointer);
                return n.doubleValue();
            }
            default -> {
                if (!(value instanceof JsonArray a) && !(value instanceof List<?>)) {
                    throw new InvalidFieldException(pointer, "must be a list of integers, got " + describe(value));
                }
                List<?> items = value instanceof JsonArray a ? a.getList() : (List<?>) value;
                if (items.isEmpty() || items.size() > maxItems) {
                    throw new InvalidFieldException(pointer,
                            "must have 1 to " + maxItems + " items, has " + items.size());
                }
                List<Integer> out = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) {
                    long v = integer(items.get(i), pointer + "/" + i);
                    inRange(v, pointer + "/" + i);
                    out.add((int) v);
                }
                return List.copyOf(out);
            }
        }
    }

    private static long integer(Object value, String pointer) {
        if (value instanceof Integer || value instanceof Long) {
            return ((Number) value).longValue();
        }
        if (value instanceof Number n && Double.isFinite(n.doubleValue())
                && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) < 1e15) {
            return (long) n.doubleValue();
        }
        throw new InvalidFieldException(pointer, "must be an integer, got " + describe(value));
    }

    private void inRange(double v, String pointer) {
        if (v < min || v > max) {
            throw new InvalidFieldException(pointer,
                    "value " + (v == Math.rint(v) && name.type() != Hyperparameter.Type.DOUBLE
                            ? String.valueOf((long) v) : String.valueOf(v))
                            + " is outside [" + fmt(min) + ", " + fmt(max) + "]");
        }
    }

    private String fmt(double d) {
        return name.type() == Hyperparameter.Type.DOUBLE ? String.valueOf(d) : String.valueOf((long) d);
    }

    private static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String s) {
            return "the string \"" + (s.length() > 20 ? s.substring(0, 20) + "..." : s) + "\"";
        }
        if (value instanceof JsonObject) {
            return "an object";
        }
        return String.valueOf(value);
    }

    JsonObject toJson() {
        JsonObject o = new JsonObject().put("type", name.type().jsonName());
        if (defaultValue instanceof List<?> l) {
            o.put("default", new JsonArray(new ArrayList<>(l)));
        } else {
            o.put("default", defaultValue);
        }
        if (name.type() == Hyperparameter.Type.DOUBLE) {
            o.put("min", min).put("max", max);
        } else {
            o.put("min", (long) min).put("max", (long) max);
        }
        if (name.type() == Hyperparameter.Type.INT_LIST) {
            o.put("maxItems", maxItems);
        }
        return o;
    }
}
