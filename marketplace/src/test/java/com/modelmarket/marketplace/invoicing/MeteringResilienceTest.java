package com.modelmarket.marketplace.invoicing;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import com.modelmarket.marketplace.Platform;
import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.db.EmbeddedDatabase;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.TestDatabases;
import com.modelmarket.marketplace.support.TestPlatform;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Metering loses nothing and counts nothing twice: across a database outage, and across a graceful restart under load. */
@ExtendWith(VertxExtension.class)
@Tag("slow")
class MeteringResilienceTest {

    private static final JsonObject REQUEST = Publishing.manifest("digits_mlp").getJsonObject("example");

    /** A tenant with its own published model and a key for it. */
    private static String prepare(Api api, String slug) {
        String owner = accessToken(api.signUp("Resilient " + slug, "owner@" + slug + ".test", "resilient-password"));
        createModel(api, owner, slug, "private", new JsonObject());
        publishVersion(api, owner, slug, "1.0.0", "digits_mlp");
        return api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
    }

    /** The request ids in the usage commit log; also checks that the log agrees with the rollups and holds no id twice. */
    private static Set<String> meteredIds(DbTarget db) {
        List<String> logged = Sql.meteredRequestIds(db);
        Set<String> ids = ConcurrentHashMap.newKeySet();
        ids.addAll(logged);
        assertEquals(logged.size(), ids.size(), "a request counted twice");
        return ids;
    }

    private static void awaitEqual(DbTarget db, Set<String> served, long timeoutMillis) {
        await("metered request ids must equal the requests that reached the model")
                .atMost(Duration.ofMillis(timeoutMillis)).pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> assertEquals(served, meteredIds(db)));
        assertEquals(served.size(), Sql.meteredCalls(db), "no duplicates");
    }

    @Test
    @DisplayName("the database stops while usage flows and comes back: metered = served, no duplicates; readiness follows the database")
    void databaseOutage(Vertx vertx, @TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        EmbeddedDatabase pg = EmbeddedDatabase.start(dir.resolve("pg"), port);
        Map<String, String> overrides = new HashMap<>(TestPlatform.baseOverrides(dir.resolve("data")));
        overrides.put("db.url", TestDatabases.url(pg.target()));
        Platform platform = TestPlatform.start(vertx, overrides);
        DbTarget db = pg.target();
        Set<String> served = ConcurrentHashMap.newKeySet();
        try (Api api = new Api(vertx, platform.port())) {
            String key = prepare(api, "outage-digits");
            for (int i = 0; i < 40; i++) {
                HttpResponse<Buffer> r = api.post("/v2/models/outage-digits/infer", key, REQUEST);
                assertEquals(200, r.statusCode(), r.bodyAsString());
                served.add(r.getHeader("X-Request-Id"));
            }
            pg.close(); // within the meter's flush interval: the last records are still buffered
            List<Integer> during = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                HttpResponse<Buffer> r = api.post("/v2/models/outage-digits/infer", key, REQUEST);
                during.add(r.statusCode());
                if (r.statusCode() == 200) {
                    served.add(r.getHeader("X-Request-Id"));
                }
            }
            assertTrue(during.stream().allMatch(s -> s == 200 || s == 503), "fail fast with 503 while down: " + during);
            assertEquals(503, api.get("/health/ready", null).statusCode());

            pg = EmbeddedDatabase.start(dir.resolve("pg"), port);
            await("ready again once the database is back").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> assertEquals(200, api.get("/health/ready", null).statusCode()));
            for (int i = 0; i < 5; i++) {
                HttpResponse<Buffer> r = api.post("/v2/models/outage-digits/infer", key, REQUEST);
                assertEquals(200, r.statusCode(), r.bodyAsString());
                served.add(r.getHeader("X-Request-Id"));
            }
            awaitEqual(db, served, 30_000);
        } finally {
            TestPlatform.stop(platform);
            pg.close();
        }
    }

    @Test
    @DisplayName("a graceful restart under load loses no usage: every answered request is metered once")
    void gracefulRestartUnderLoad(Vertx vertx, @TempDir Path dir) throws Exception {
        DbTarget db = TestDatabases.freshDatabase();
        Map<String, String> overrides = new HashMap<>(TestPlatform.baseOverrides(dir));
        overrides.put("db.url", TestDatabases.url(db));
        Platform first = TestPlatform.start(vertx, overrides);
        Set<String> served = ConcurrentHashMap.newKeySet();
        AtomicInteger failed = new AtomicInteger();
        String key;
        try (Api setup = new Api(vertx, first.port())) {
            key = prepare(setup, "restart-digits");
        }
        Api api = new Api(vertx, first.port());
        AtomicBoolean running = new AtomicBoolean(true);
        List<Future<Void>> loops = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Promise<Void> done = Promise.promise();
            loop(api, key, running, served, failed, done);
            loops.add(done.future());
        }
        // let the load run for a while (at least 1.5 s) before the restart
        await("load runs").pollDelay(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(30)).until(() -> served.size() > 20);
        TestPlatform.stop(first); // graceful: drains requests in flight, flushes the meter
        running.set(false);
        Api.await(Future.join(loops).otherwiseEmpty());
        api.close();
        assertTrue(served.size() > 20, "load ran: " + served.size());

        Platform second = TestPlatform.start(vertx, overrides);
        try {
            // Every answered request is metered. A request that reached the model while the
            // server went away may be metered although its answer was lost: the client saw that
            // request fail, so there can be at most as many such records as client failures.
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250))
                    .untilAsserted(() -> assertTrue(meteredIds(db).containsAll(served), () -> "answered but not metered: "
                            + served.stream().filter(id -> !meteredIds(db).contains(id)).toList()));
            Set<String> metered = meteredIds(db);
            assertTrue(metered.size() - served.size() <= failed.get(),
                    (metered.size() - served.size()) + " metered without an answer, but only " + failed.get() + " client failures");
            assertEquals(metered.size(), Sql.meteredCalls(db), "no duplicates");
        } finally {
            TestPlatform.stop(second);
        }
    }

    private static void loop(Api api, String key, AtomicBoolean running, Set<String> served, AtomicInteger failed,
                             Promise<Void> done) {
        if (!running.get()) {
            done.complete();
            return;
        }
        api.request(io.vertx.core.http.HttpMethod.POST, "/v2/models/restart-digits/infer", key).sendJsonObject(REQUEST)
                .onComplete(ar -> {
                    if (ar.succeeded() && ar.result().statusCode() == 200) {
                        served.add(ar.result().getHeader("X-Request-Id"));
                    } else {
                        failed.incrementAndGet();
                    }
                    if (ar.failed() || ar.result().statusCode() != 200) {
                        done.complete(); // the server is going away
                    } else {
                        loop(api, key, running, served, failed, done);
                    }
                });
    }
}
