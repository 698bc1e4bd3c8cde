package com.modelmarket.serving.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TrainingRecipeTest {

    private static void refusedResolve(String json, String pointer) {
        TrainingRecipe r = TrainingFixtures.recipe("mlp_classifier");
        InvalidFieldException e = assertThrows(InvalidFieldException.class,
                () -> r.resolve(new JsonObject(json)), json);
        System.out.println(e.getMessage());
        assertEquals(pointer, e.pointer(), e.getMessage());
        assertTrue(e.getMessage().startsWith(pointer + ": "));
    }

    private static void refusedPublish(Consumer<JsonObject> edit, String pointer) {
        JsonObject json = TrainingFixtures.recipeJson("mlp_classifier");
        edit.accept(json);
        InvalidFieldException e = assertThrows(InvalidFieldException.class,
                () -> TrainingRecipe.fromJson(json), json.encode());
        System.out.println(e.getMessage());
        assertEquals(pointer, e.pointer(), e.getMessage());
    }

    private static JsonObject hp(JsonObject recipe, String name) {
        return recipe.getJsonObject("hyperparameters").getJsonObject(name);
    }

    @Test
    @DisplayName("defaults come from the recipe, values the caller gives override them")
    void resolve() {
        TrainingRecipe r = TrainingFixtures.recipe("mlp_classifier");
        Hyperparameters d = r.resolve(null);
        assertEquals(new Hyperparameters(40, 0.005, 32, List.of(32, 16), 0.0, 8, 0.1, 42), d);
        Hyperparameters given = r.resolve(new JsonObject().put("epochs", 5).put("learningRate", 0.01)
                .put("hiddenSizes", new JsonArray().add(8)).put("seed", 7).put("batchSize", 16.0));
        assertEquals(new Hyperparameters(5, 0.01, 16, List.of(8), 0.0, 8, 0.1, 7), given);
        // a hyperparameter the recipe does not expose is fixed at the platform's default
        Hyperparameters lin = TrainingFixtures.recipe("logistic_regression").resolve(new JsonObject());
        assertEquals(0.1, lin.validationFraction());
        assertEquals(0, lin.earlyStoppingPatience());
    }

    @Test
    @DisplayName("bad hyperparameters are refused naming the field as a JSON pointer")
    void badHyperparameters() {
        refusedResolve("{\"learningRate\": 5}", "/hyperparameters/learningRate");
        refusedResolve("{\"learningRate\": \"fast\"}", "/hyperparameters/learningRate");
        refusedResolve("{\"epochs\": 0}", "/hyperparameters/epochs");
        refusedResolve("{\"epochs\": 2.5}", "/hyperparameters/epochs");
        refusedResolve("{\"epochs\": null}", "/hyperparameters/epochs");
        refusedResolve("{\"batchSize\": 100000}", "/hyperparameters/batchSize");
        refusedResolve("{\"hiddenSizes\": 8}", "/hyperparameters/hiddenSizes");
        refusedResolve("{\"hiddenSizes\": []}", "/hyperparameters/hiddenSizes");
        refusedResolve("{\"hiddenSizes\": [8, 8, 8, 8, 8]}", "/hyperparameters/hiddenSizes");
        refusedResolve("{\"hiddenSizes\": [8, 0]}", "/hyperparameters/hiddenSizes/1");
        refusedResolve("{\"hiddenSizes\": [8, \"x\"]}", "/hyperparameters/hiddenSizes/1");
        refusedResolve("{\"validationFraction\": 0.5}", "/hyperparameters/validationFraction");
        refusedResolve("{\"weightDecay\": -1}", "/hyperparameters/weightDecay");
        refusedResolve("{\"seed\": -1}", "/hyperparameters/seed");
        refusedResolve("{\"momentum\": 0.9}", "/hyperparameters/momentum");
        refusedResolve("{\"a/b\": 1}", "/hyperparameters/a~1b");
        InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> TrainingFixtures
                .recipe("logistic_regression").resolve(new JsonObject().put("hiddenSizes", new JsonArray().add(4))));
        assertEquals("/hyperparameters/hiddenSizes", e.pointer());
    }

    @Test
    @DisplayName("a recipe with a bad kind, loss, type or default is refused on publish naming the field")
    void badRecipes() {
        refusedPublish(j -> j.put("task", "ranking"), "/task");
        refusedPublish(j -> j.remove("task"), "/task");
        refusedPublish(j -> j.getJsonObject("architecture").put("kind", "transformer"), "/architecture/kind");
        refusedPublish(j -> j.remove("architecture"), "/architecture");
        refusedPublish(j -> j.getJsonObject("architecture").put("activation", "gelu"), "/architecture/activation");
        refusedPublish(j -> j.getJsonObject("architecture").put("dropout", 0.95), "/architecture/dropout");
        refusedPublish(j -> j.getJsonObject("architecture").put("code", "import os"), "/architecture/code");
        refusedPublish(j -> j.put("loss", "l2"), "/loss");
        refusedPublish(j -> j.put("loss", "hinge"), "/loss");
        refusedPublish(j -> j.put("optimizer", "lbfgs"), "/optimizer");
        refusedPublish(j -> j.put("script", "x"), "/script");
        refusedPublish(j -> hp(j, "epochs").put("default", 501), "/hyperparameters/epochs/default");
        refusedPublish(j -> hp(j, "epochs").put("type", "double"), "/hyperparameters/epochs/type");
        refusedPublish(j -> hp(j, "epochs").put("min", 10).put("max", 5), "/hyperparameters/epochs/min");
        refusedPublish(j -> hp(j, "epochs").put("max", 1_000_000), "/hyperparameters/epochs/max");
        refusedPublish(j -> hp(j, "learningRate").remove("default"), "/hyperparameters/learningRate/default");
        refusedPublish(j -> hp(j, "hiddenSizes").put("default", new JsonArray().add(8).add(9999)),
                "/hyperparameters/hiddenSizes/default/1");
        refusedPublish(j -> hp(j, "hiddenSizes").put("maxItems", 99), "/hyperparameters/hiddenSizes/maxItems");
        refusedPublish(j -> j.getJsonObject("hyperparameters").put("momentum",
                new JsonObject().put("type", "double").put("default", 0.9)), "/hyperparameters/momentum");
        refusedPublish(j -> {
            j.put("architecture", new JsonObject().put("kind", "linear"));
        }, "/hyperparameters/hiddenSizes");
    }

    @Test
    @DisplayName("a published recipe writes itself back as JSON that parses to the same recipe")
    void roundTrip() {
        for (String name : List.of("mlp_classifier", "logistic_regression", "mlp_regressor")) {
            TrainingRecipe r = TrainingFixtures.recipe(name);
            assertEquals(r, TrainingRecipe.fromJson(r.toJson()), name);
            assertEquals(r.resolve(null), TrainingRecipe.fromJson(r.toJson()).resolve(null), name);
        }
    }
}
