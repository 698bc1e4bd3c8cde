package com.modelmarket.marketplace.canary;

import static com.modelmarket.marketplace.canary.CanaryFixtures.addVersion;
import static com.modelmarket.marketplace.canary.CanaryFixtures.publish;
import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Api.assertProblem;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.StartedPlatform;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Publish gates over the HTTP API: a metric gate measured on the publisher's dataset refuses a
 * worse version with both figures and accepts a better one; an override goes through and is
 * audited; a schema-breaking version under the same major number is refused, under a new one not;
 * another organisation sees none of it.
 */
@StartedPlatform
class CanaryGatesApiTest {

    private static Api api;
    private static DbTarget db;
    private static String publisher;
    private static String datasetId;

    @BeforeAll
    static void start(Platform platform, Api client) {
        api = client;
        db = platform.services().database().target();
        publisher = accessToken(api.signUp("Gate Labs", "owner@gates.test", "publisher-password"));
        datasetId = CanaryFixtures.breastCancerDataset(api, publisher).getString("id");
    }

    private static JsonObject accuracyGate(double maxDrop) {
        return new JsonObject().put("metrics", new JsonArray().add(new JsonObject()
                .put("metric", "accuracy").put("datasetId", datasetId).put("maxDrop", maxDrop)));
    }

    private static JsonObject metricFailure(JsonObject problem) {
        JsonArray gates = problem.getJsonArray("gates");
        return IntStream.range(0, gates.size()).mapToObj(gates::getJsonObject)
                .filter(g -> "metric".equals(g.getString("gate"))).findFirst().orElseThrow(() -> new AssertionError(problem.encode()));
    }

    private static String latest(String slug) {
        return api.get("/api/v1/models/" + slug, publisher).bodyAsJsonObject().getJsonObject("aliases").getString("latest");
    }

    @Test
    @DisplayName("an accuracy gate refuses a worse version with 409 and both figures, accepts a better one, and an override is audited")
    void metricGate() {
        createModel(api, publisher, "bc-gated", "public", new JsonObject().put("task", "tabular-classification"));
        addVersion(api, publisher, "bc-gated", "1.0.0", "breast_cancer_fair");
        assertEquals(200, publish(api, publisher, "bc-gated", "1.0.0", null).statusCode());
        HttpResponse<Buffer> set = api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/bc-gated/gates", publisher, accuracyGate(0.01));
        assertEquals(200, set.statusCode(), set.bodyAsString());
        assertEquals(0.01, set.bodyAsJsonObject().getJsonArray("metrics").getJsonObject(0).getDouble("maxDrop"));

        // the under-trained model: 0.634 against 0.810
        addVersion(api, publisher, "bc-gated", "1.1.0", "breast_cancer_mlp");
        JsonObject refused = assertProblem(publish(api, publisher, "bc-gated", "1.1.0", null), 409);
        assertTrue(refused.getString("type").endsWith("/gate-failed"), refused.encode());
        JsonObject figures = metricFailure(refused);
        assertEquals("1.0.0", figures.getString("currentVersion"));
        assertEquals("1.1.0", figures.getString("candidateVersion"));
        assertEquals(0.8102, figures.getDouble("current"), 0.0005, figures.encode());
        assertEquals(0.6344, figures.getDouble("candidate"), 0.0005, figures.encode());
        assertFalse(figures.getBoolean("passed"));
        assertEquals("1.0.0", latest("bc-gated"), "nothing moved");
        assertEquals("draft", versionState("bc-gated", "1.1.0"));

        // a better one (0.9965) passes and takes latest
        addVersion(api, publisher, "bc-gated", "1.2.0", "breast_cancer_better");
        HttpResponse<Buffer> better = publish(api, publisher, "bc-gated", "1.2.0", null);
        assertEquals(200, better.statusCode(), better.bodyAsString());
        assertEquals("1.2.0", latest("bc-gated"));

        // worse again, now against 1.2.0: refused; an override needs a reason, then goes through, audited with the figures
        addVersion(api, publisher, "bc-gated", "1.3.0", "breast_cancer_mlp");
        JsonObject again = metricFailure(assertProblem(publish(api, publisher, "bc-gated", "1.3.0", null), 409));
        assertEquals(0.9965, again.getDouble("current"), 0.0005, again.encode());
        JsonObject noReason = assertProblem(publish(api, publisher, "bc-gated", "1.3.0", new JsonObject().put("override", true)), 400);
        assertEquals("/reason", noReason.getJsonArray("errors").getJsonObject(0).getString("pointer"));
        assertEquals(0, Sql.count(db, "SELECT count(*) FROM audit_log WHERE action = 'gate.override'"));
        HttpResponse<Buffer> overridden = publish(api, publisher, "bc-gated", "1.3.0",
                new JsonObject().put("override", true).put("reason", "the old model is being withdrawn"));
        assertEquals(200, overridden.statusCode(), overridden.bodyAsString());
        assertEquals("1.3.0", latest("bc-gated"));
        assertEquals(1, Sql.count(db, "SELECT count(*) FROM audit_log WHERE action = 'gate.override' "
                + "AND details->>'reason' = 'the old model is being withdrawn' AND details->>'version' = '1.3.0' "
                + "AND details->>'current' = '1.2.0' AND (details->'failures'->0->>'candidate')::float BETWEEN 0.63 AND 0.64"));
    }

    @Test
    @DisplayName("a schema-breaking version is refused under the same major number and accepted under a new one; alias moves are gated too")
    void schemaGate() {
        createModel(api, publisher, "bc-schema", "private", new JsonObject().put("task", "tabular-classification"));
        addVersion(api, publisher, "bc-schema", "1.0.0", "breast_cancer_fair");
        assertEquals(200, publish(api, publisher, "bc-schema", "1.0.0", null).statusCode());
        assertEquals(200, api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/bc-schema/gates", publisher,
                new JsonObject().put("schema", true)).statusCode());
        // the digits model takes 64 pixels, not 30 features, and answers 10 classes
        addVersion(api, publisher, "bc-schema", "1.1.0", "digits_mlp");
        JsonObject refused = assertProblem(publish(api, publisher, "bc-schema", "1.1.0", null), 409);
        JsonObject schema = refused.getJsonArray("gates").getJsonObject(0);
        assertEquals("schema", schema.getString("gate"), refused.encode());
        assertTrue(schema.getJsonArray("breakingChanges").encode().contains("input pixels is new"), schema.encode());
        assertTrue(schema.getString("reason").contains("2.0.0"), schema.encode());

        addVersion(api, publisher, "bc-schema", "2.0.0", "digits_mlp");
        HttpResponse<Buffer> major = publish(api, publisher, "bc-schema", "2.0.0", null);
        assertEquals(200, major.statusCode(), major.bodyAsString());
        // moving latest back to 1.0.0 is a breaking change without a new major: refused, then overridden
        HttpResponse<Buffer> back = api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/bc-schema/aliases/latest", publisher,
                new JsonObject().put("version", "1.0.0"));
        assertProblem(back, 409);
        HttpResponse<Buffer> forced = api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/bc-schema/aliases/latest", publisher,
                new JsonObject().put("version", "1.0.0").put("override", true).put("reason", "2.0.0 clients are not ready"));
        assertEquals(200, forced.statusCode(), forced.bodyAsString());
        assertEquals("1.0.0", latest("bc-schema"));
    }

    @Test
    @DisplayName("gate settings are checked field by field, and another organisation's dataset or model is not found")
    void settingsAndIsolation() {
        createModel(api, publisher, "bc-private-gates", "public", new JsonObject().put("task", "tabular-classification"));
        JsonObject bad = assertProblem(api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/bc-private-gates/gates", publisher,
                new JsonObject().put("metrics", new JsonArray().add(new JsonObject().put("metric", "vibes")
                        .put("datasetId", datasetId).put("maxDrop", 0.1)))), 400);
        assertEquals("/metrics/0/metric", bad.getJsonArray("errors").getJsonObject(0).getString("pointer"));
        assertEquals(200, api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/bc-private-gates/gates", publisher,
                accuracyGate(0.02)).statusCode());

        String other = accessToken(api.signUp("Other Gates", "owner@other-gates.test", "other-password"));
        assertProblem(api.get("/api/v1/models/bc-private-gates/gates", other), 404);
        assertProblem(api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/bc-private-gates/gates", other,
                new JsonObject().put("schema", false)), 404);
        // its own model cannot name the publisher's dataset
        createModel(api, other, "other-gated", "private", new JsonObject());
        JsonObject foreign = assertProblem(api.send(io.vertx.core.http.HttpMethod.PUT, "/api/v1/models/other-gated/gates", other,
                accuracyGate(0.01)), 404);
        assertEquals("/metrics/0/datasetId", foreign.getString("pointer"), foreign.encode());
        // the publisher's settings are unchanged
        assertEquals(0.02, api.get("/api/v1/models/bc-private-gates/gates", publisher).bodyAsJsonObject()
                .getJsonArray("metrics").getJsonObject(0).getDouble("maxDrop"));
    }

    private static String versionState(String slug, String version) {
        JsonArray versions = api.get("/api/v1/models/" + slug, publisher).bodyAsJsonObject().getJsonArray("versions");
        return IntStream.range(0, versions.size()).mapToObj(versions::getJsonObject)
                .filter(v -> version.equals(v.getString("version"))).findFirst().orElseThrow().getString("state");
    }
}
