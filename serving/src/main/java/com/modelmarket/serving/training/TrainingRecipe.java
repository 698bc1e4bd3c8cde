package com.modelmarket.serving.training;

import io.vertx.core.json.JsonObject;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An algorithm version: a declarative recipe that the platform knows how to train. No code: the
 * architecture is one of a few built-in block kinds, and the caller may only tune the
 * hyperparameters the recipe exposes, within its ranges. Checked once, on publish ({@link
 * #fromJson}); a bad field is refused naming its JSON pointer.
 *
 * <pre>{@code
 * {"task": "classification",
 *  "architecture": {"kind": "mlp", "activation": "relu", "dropout": 0.1},
 *  "loss": "softmax_cross_entropy", "optimizer": "adam",
 *  "hyperparameters": {"epochs": {"type": "int", "default": 60, "min": 1, "max": 500}, ...}}
 * }</pre>
 *
 * @param hyperparameters the exposed ones; those not exposed are fixed at the platform default
 */
public record TrainingRecipe(TrainingTask task, Architecture architecture, LossKind loss,
        OptimizerKind optimizer, Map<Hyperparameter, HyperparameterSpec> hyperparameters) {

    /** A built-in block kind. */
    public enum BlockKind { LINEAR, MLP }

    /** The MLP's nonlinearity. */
    public enum ActivationKind { RELU, TANH }

    /** The training loss; each task has one. */
    public enum LossKind { SOFTMAX_CROSS_ENTROPY, L2 }

    /** The optimiser (fixed learning rate; weight decay from the hyperparameters). */
    public enum OptimizerKind { SGD, ADAM }

    /**
     * The network: {@code linear} is one dense layer (logistic/softmax regression for
     * classification, linear regression for regression); {@code mlp} is dense layers of the
     * {@code hiddenSizes} widths, each followed by the activation and dropout, then a dense output.
     */
    public record Architecture(BlockKind kind, ActivationKind activation, double dropout) {

        JsonObject toJson() {
            JsonObject o = new JsonObject().put("kind", lower(kind));
            if (kind == BlockKind.MLP) {
                o.put("activation", lower(activation)).put("dropout", dropout);
            }
            return o;
        }
    }

    public TrainingRecipe {
        hyperparameters = Map.copyOf(hyperparameters);
    }

    /**
     * Parses and validates a recipe.
     *
     * @throws InvalidFieldException naming the first bad field: an unknown field or kind, a loss
     *     that does not fit the task, a hyperparameter with the wrong type, a range outside the
     *     platform's, a default outside its own range
     */
    public static TrainingRecipe fromJson(JsonObject json) {
        if (json == null) {
            throw new InvalidFieldException("", "a recipe is a JSON object");
        }
        allowOnly(json, "", "task", "architecture", "loss", "optimizer", "hyperparameters", "description");
        TrainingTask task = TrainingTask.parse(string(json, "task", ""));
        if (task == null) {
            throw new InvalidFieldException("/task", "must be classification or regression");
        }
        Architecture architecture = architecture(json.getValue("architecture"));
        LossKind loss = task == TrainingTask.CLASSIFICATION ? LossKind.SOFTMAX_CROSS_ENTROPY : LossKind.L2;
        if (json.containsKey("loss")) {
            loss = kind(LossKind.class, string(json, "loss", ""), "/loss");
            if (loss != (task == TrainingTask.CLASSIFICATION
                    ? LossKind.SOFTMAX_CROSS_ENTROPY : LossKind.L2)) {
                throw new InvalidFieldException("/loss", lower(loss) + " does not fit a "
                        + task.jsonName() + " task");
            }
        }
        OptimizerKind optimizer = json.containsKey("optimizer")
                ? kind(OptimizerKind.class, string(json, "optimizer", ""), "/optimizer")
                : OptimizerKind.ADAM;
        Map<Hyperparameter, HyperparameterSpec> specs = new EnumMap<>(Hyperparameter.class);
        Object hp = json.getValue("hyperparameters");
        if (hp != null && !(hp instanceof JsonObject)) {
            throw new InvalidFieldException("/hyperparameters", "must be an object");
        }
        if (hp instanceof JsonObject h) {
            for (String name : h.fieldNames()) {
                String pointer = "/hyperparameters/" + Pointers.escape(name);
                Hyperparameter which = Hyperparameter.byName(name);
                if (which == null) {
                    throw new InvalidFieldException(pointer, "not a hyperparameter the platform knows");
                }
                if (which == Hyperparameter.HIDDEN_SIZES && architecture.kind() != BlockKind.MLP) {
                    throw new InvalidFieldException(pointer, "only an mlp has hidden layers");
                }
                specs.put(which, HyperparameterSpec.fromJson(which, h.getValue(name), pointer));
            }
        }
        return new TrainingRecipe(task, architecture, loss, optimizer, specs);
    }

    private static Architecture architecture(Object value) {
        if (!(value instanceof JsonObject a)) {
            throw new InvalidFieldException("/architecture", "must be an object with a kind");
        }
        allowOnly(a, "/architecture", "kind", "activation", "dropout");
        BlockKind kind = kind(BlockKind.class, string(a, "kind", "/architecture"), "/architecture/kind");
        if (kind == BlockKind.LINEAR) {
            for (String key : List.of("activation", "dropout")) {
                if (a.containsKey(key)) {
                    throw new InvalidFieldException("/architecture/" + key, "a linear block has no " + key);
                }
            }
            return new Architecture(kind, null, 0);
        }
        ActivationKind activation = a.containsKey("activation")
                ? kind(ActivationKind.class, string(a, "activation", "/architecture"),
                        "/architecture/activation")
                : ActivationKind.RELU;
        double dropout = 0;
        if (a.containsKey("dropout")) {
            if (!(a.getValue("dropout") instanceof Number n) || !(n.doubleValue() >= 0)
                    || !(n.doubleValue() < 0.9)) {
                throw new InvalidFieldException("/architecture/dropout", "must be a number in [0, 0.9)");
            }
            dropout = n.doubleValue();
        }
        return new Architecture(kind, activation, dropout);
    }

    /**
     * The concrete hyperparameters for one run: the caller's values where given, else the recipe's
     * defaults, else the platform's.
     *
     * @param given name to value; null or empty for all defaults
     * @throws InvalidFieldException naming {@code /hyperparameters/<name>}: a name the recipe does
     *     not expose, a wrong type, a value out of range
     */
    public Hyperparameters resolve(JsonObject given) {
        Map<Hyperparameter, Object> values = new EnumMap<>(Hyperparameter.class);
        for (Hyperparameter h : Hyperparameter.values()) {
            HyperparameterSpec spec = hyperparameters.get(h);
            values.put(h, spec != null ? spec.defaultValue() : h.platformDefault());
        }
        if (given != null) {
            for (String name : given.fieldNames()) {
                String pointer = "/hyperparameters/" + Pointers.escape(name);
                Hyperparameter h = Hyperparameter.byName(name);
                HyperparameterSpec spec = h == null ? null : hyperparameters.get(h);
                if (spec == null) {
                    throw new InvalidFieldException(pointer, h == null
                            ? "unknown hyperparameter; this recipe has " + exposedNames()
                            : "this recipe does not let " + name + " be set; it has " + exposedNames());
                }
                values.put(h, spec.check(given.getValue(name), pointer));
            }
        }
        @SuppressWarnings("unchecked")
        List<Integer> hidden = (List<Integer>) values.get(Hyperparameter.HIDDEN_SIZES);
        return new Hyperparameters(
                (int) asLong(values.get(Hyperparameter.EPOCHS)),
                ((Number) values.get(Hyperparameter.LEARNING_RATE)).doubleValue(),
                (int) asLong(values.get(Hyperparameter.BATCH_SIZE)),
                hidden,
                ((Number) values.get(Hyperparameter.WEIGHT_DECAY)).doubleValue(),
                (int) asLong(values.get(Hyperparameter.EARLY_STOPPING_PATIENCE)),
                ((Number) values.get(Hyperparameter.VALIDATION_FRACTION)).doubleValue(),
                asLong(values.get(Hyperparameter.SEED)));
    }

    private static long asLong(Object v) {
        return ((Number) v).longValue();
    }

    private List<String> exposedNames() {
        return hyperparameters.keySet().stream().sorted().map(Hyperparameter::jsonName).toList();
    }

    /** The recipe as published (normalised: every default filled in). */
    public JsonObject toJson() {
        JsonObject hp = new JsonObject();
        hyperparameters.keySet().stream().sorted()
                .forEach(h -> hp.put(h.jsonName(), hyperparameters.get(h).toJson()));
        return new JsonObject()
                .put("task", task.jsonName())
                .put("architecture", architecture.toJson())
                .put("loss", lower(loss))
                .put("optimizer", lower(optimizer))
                .put("hyperparameters", hp);
    }

    private static void allowOnly(JsonObject o, String at, String... keys) {
        for (String key : o.fieldNames()) {
            if (!List.of(keys).contains(key)) {
                throw new InvalidFieldException(at + "/" + Pointers.escape(key), "unknown field");
            }
        }
    }

    private static String string(JsonObject o, String key, String at) {
        Object v = o.getValue(key);
        if (!(v instanceof String s)) {
            throw new InvalidFieldException(at + "/" + key, v == null ? "is required" : "must be a string");
        }
        return s;
    }

    private static <E extends Enum<E>> E kind(Class<E> type, String name, String pointer) {
        for (E e : type.getEnumConstants()) {
            if (lower(e).equals(name)) {
                return e;
            }
        }
        throw new InvalidFieldException(pointer, "'" + name + "' is not one of "
                + java.util.Arrays.stream(type.getEnumConstants()).map(TrainingRecipe::lower).toList());
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
