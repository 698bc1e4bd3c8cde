package com.modelmarket.marketplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.config.ConfigLoader;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.demo.DemoCatalog;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.TestDatabases;
import com.modelmarket.marketplace.support.TestPlatform;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class PlatformLifecycleTest {

    @Test
    @DisplayName("with no database URL the platform runs on an embedded PostgreSQL whose data survives a restart")
    void embeddedDefaultSurvivesRestart(Vertx vertx, @TempDir Path dataDir) {
        Map<String, String> overrides = TestPlatform.baseOverrides(dataDir);
        Platform first = TestPlatform.start(vertx, overrides);
        try (Api api = new Api(vertx, first.port())) {
            assertEquals(200, api.get("/health/live", null).statusCode());
            assertEquals(200, api.get("/health/ready", null).statusCode());
            api.signUp("Persistent Org", "persist@org.test", "persist-password");
            assertDemoCatalog(api, first);
            String consumer = api.login(DemoCatalog.CONSUMER_EMAIL, first.demoCredentials().orElseThrow().consumerPassword())
                    .getString("accessToken");
            org.awaitility.Awaitility.await("the demo job ends").atMost(java.time.Duration.ofMinutes(3))
                    .pollInterval(java.time.Duration.ofMillis(500)).until(() -> !java.util.List.of("queued", "running")
                            .contains(api.get("/api/v1/training-jobs", consumer).bodyAsJsonObject().getJsonArray("items")
                                    .getJsonObject(0).getString("state")));
            JsonObject job = api.get("/api/v1/training-jobs", consumer).bodyAsJsonObject().getJsonArray("items").getJsonObject(0);
            assertEquals("succeeded", job.getString("state"), job.encode());
            JsonObject model = api.get("/api/v1/models/demo-breast-cancer", consumer).bodyAsJsonObject();
            assertEquals("1.0.0", model.getJsonObject("aliases").getString("latest"), model.encode());
        } finally {
            TestPlatform.stop(first);
        }
        assertTrue(Files.isDirectory(dataDir.resolve("postgres")), "cluster lives in the data directory");

        Platform second = TestPlatform.start(vertx, overrides);
        try (Api api = new Api(vertx, second.port())) {
            assertEquals(200, api.get("/health/ready", null).statusCode());
            JsonObject session = api.login("persist@org.test", "persist-password");
            JsonObject tenant = api.get("/api/v1/tenant", session.getString("accessToken")).bodyAsJsonObject();
            assertEquals("persistent-org", tenant.getString("slug"));
            assertEquals(first.demoCredentials(), second.demoCredentials(), "the demo logins are printed at every start");
            assertDemoCatalog(api, second);
        } finally {
            TestPlatform.stop(second);
        }
    }

    /** The demo catalog: a publisher with at least three public models and plans, a consumer with a subscription. */
    private static void assertDemoCatalog(Api api, Platform platform) {
        DemoCatalog.Credentials demo = platform.demoCredentials().orElseThrow();
        JsonObject catalog = api.get("/api/v1/catalog?publisher=demo-publisher&limit=50", null).bodyAsJsonObject();
        assertTrue(catalog.getJsonArray("items").size() >= 3, catalog.encode());
        int algorithms = 0;
        for (Object item : catalog.getJsonArray("items")) {
            JsonObject card = (JsonObject) item;
            if ("algorithm".equals(card.getString("kind"))) {
                algorithms++;
                assertTrue(card.getJsonArray("priceTypes").contains("free"), card.encode());
                continue;
            }
            assertEquals("1.0.0", card.getString("latestVersion"), card.encode());
            assertTrue(card.getJsonArray("priceTypes").size() >= 2, card.encode());
        }
        assertEquals(4, algorithms, "three recipes and one fine-tuning algorithm: " + catalog.encode());
        String consumer = api.login(DemoCatalog.CONSUMER_EMAIL, demo.consumerPassword()).getString("accessToken");
        JsonObject subscriptions = api.get("/api/v1/subscriptions", consumer).bodyAsJsonObject();
        assertTrue(subscriptions.getJsonArray("items").stream().anyMatch(o -> "digits-mlp".equals(((JsonObject) o).getString("model"))),
                subscriptions.encode());
        // the demo consumer's first training job, queued at the first start
        JsonObject jobs = api.get("/api/v1/training-jobs", consumer).bodyAsJsonObject();
        assertEquals(1, jobs.getJsonArray("items").size(), jobs.encode());
        api.login(DemoCatalog.PUBLISHER_EMAIL, demo.publisherPassword());
    }

    @Test
    @DisplayName("MM_DB_URL points the platform at another PostgreSQL server, where it runs the migrations")
    void externalDatabaseFromEnvironment(Vertx vertx, @TempDir Path dataDir) throws Exception {
        DbTarget db = TestDatabases.freshDatabase();
        Map<String, String> env = new HashMap<>();
        env.put("MM_DB_URL", TestDatabases.url(db));
        Map<String, String> overrides = TestPlatform.baseOverrides(dataDir);
        Platform platform = Platform.start(vertx, ConfigLoader.load(env, overrides)).await(2, TimeUnit.MINUTES);
        try (Api api = new Api(vertx, platform.port())) {
            assertEquals(200, api.get("/health/ready", null).statusCode());
            api.signUp("External Org", "ext@org.test", "external-password");
        } finally {
            TestPlatform.stop(platform);
        }
        assertTrue(Files.notExists(dataDir.resolve("postgres")), "no embedded cluster was created");
        assertTrue(platform.demoCredentials().isEmpty(), "no demo data on an operator's database");
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password())) {
            ResultSet history = c.createStatement().executeQuery(
                    "SELECT count(*) FROM flyway_schema_history WHERE success AND version IS NOT NULL");
            history.next();
            assertTrue(history.getInt(1) >= 1, "migrations recorded on the external server");
            ResultSet tenants = c.createStatement().executeQuery("SELECT slug FROM tenants");
            assertTrue(tenants.next());
            assertEquals("external-org", tenants.getString(1));
        }
    }
}
