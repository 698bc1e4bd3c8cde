package com.modelmarket.marketplace.inference;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The digits classifier served over HTTP predicts exactly what PyTorch predicts on the held-out
 * split it was evaluated on (serving/fixtures/make_heldout.py), so its accuracy is the same.
 */
@StartedPlatform
class AccuracyOverHttpTest {

    @Test
    @DisplayName("accuracy on the held-out digits through the HTTP API equals PyTorch's, prediction for prediction")
    void heldOutAccuracy(Api api) {
        JsonObject heldOut = new JsonObject(Buffer.buffer(Publishing.fixtureBytes("digits_heldout.json")));
        JsonArray inputs = heldOut.getJsonArray("inputs");
        JsonArray labels = heldOut.getJsonArray("labels");
        JsonArray torchPredictions = heldOut.getJsonArray("torch_predictions");
        String owner = accessToken(api.signUp("Accuracy Lab", "owner@accuracy.test", "accuracy-password"));
        createModel(api, owner, "heldout-digits", "private", new JsonObject());
        publishVersion(api, owner, "heldout-digits", "1.0.0", "digits_mlp");
        String key = api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "eval")).bodyAsJsonObject().getString("secret");

        List<Integer> predictions = new ArrayList<>();
        int batch = 50;
        for (int start = 0; start < inputs.size(); start += batch) {
            int end = Math.min(inputs.size(), start + batch);
            JsonArray rows = new JsonArray();
            for (int i = start; i < end; i++) {
                rows.add(inputs.getJsonArray(i));
            }
            JsonObject request = new JsonObject().put("inputs", new JsonArray().add(new JsonObject()
                    .put("name", "pixels").put("datatype", "FP32").put("shape", new JsonArray().add(end - start).add(64))
                    .put("data", rows)));
            HttpResponse<Buffer> r = api.post("/v2/models/heldout-digits/infer", key, request);
            assertEquals(200, r.statusCode(), r.bodyAsString());
            JsonArray probabilities = r.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
            for (int item = 0; item < end - start; item++) {
                int best = 0;
                for (int c = 1; c < 10; c++) {
                    if (probabilities.getDouble(item * 10 + c) > probabilities.getDouble(item * 10 + best)) {
                        best = c;
                    }
                }
                predictions.add(best);
            }
        }
        int correct = 0;
        for (int i = 0; i < predictions.size(); i++) {
            assertEquals(torchPredictions.getInteger(i), predictions.get(i), "prediction for held-out item " + i);
            correct += predictions.get(i).equals(labels.getInteger(i)) ? 1 : 0;
        }
        double accuracy = correct / (double) labels.size();
        assertEquals(heldOut.getDouble("torch_accuracy"), accuracy, 1e-12);
        assertEquals(0.9711, accuracy, 0.0001, "the accuracy recorded when the model was trained");
    }
}
