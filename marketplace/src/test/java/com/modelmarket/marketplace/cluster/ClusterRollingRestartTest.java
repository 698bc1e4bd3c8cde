package com.modelmarket.marketplace.cluster;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.ClosedLoop;
import com.modelmarket.marketplace.support.NodeProcess;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.Sql;
import com.modelmarket.marketplace.support.TestDatabases;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.Test;

/**
 * A rolling restart of the serving nodes under steady load (issue 19): three JVMs on loopback — one
 * api node, two serving nodes with stores of their own — on one PostgreSQL. Closed-loop clients send
 * digits_mlp JSON inference through the api node the whole time while serving node 1 is stopped
 * with SIGTERM, started again and awaited until the api node places calls on it, then node 2 the
 * same. Every call of the run must answer 200 — no 503, no 504, no reset — and the api node must
 * meter exactly those calls.
 */
@Tag("slow")
// Opt-in (-Dmm.cluster.long=true; docs/reliability.md): on a clean-clone CI run on 2 cores a
// restarted serving node once did not re-enter the api node's placement within 60 s, and calls got
// 503 "no serving node is available" meanwhile; until that is understood and fixed it is not part
// of the README's test command.
@EnabledIfSystemProperty(named = "mm.cluster.long", matches = "true")
class ClusterRollingRestartTest {

    private static final int CLIENTS = 3;

    private static Vertx vertx;
    private static DbTarget db;
    private static NodeProcess apiNode;
    private static final NodeProcess[] serving = new NodeProcess[2];
    private static Api api;
    private static String key;

    @BeforeAll
    static void startCluster() throws Exception {
        vertx = Vertx.vertx();
        Path root = Files.createTempDirectory("mm-cluster-rolling");
        db = TestDatabases.freshDatabase();
        List<Integer> hz = NodeProcess.freePorts(3);
        String members = NodeProcess.members(hz);
        String url = TestDatabases.url(db);
        apiNode = NodeProcess.start("api", "api", root, url, hz.get(0), members, Map.of());
        for (int i = 0; i < 2; i++) {
            serving[i] = NodeProcess.start("serving-" + (i + 1), "serving", root, url, hz.get(i + 1), members, Map.of());
        }
        api = new Api(vertx, apiNode.httpPort);
        apiNode.awaitReady(api, Duration.ofSeconds(120));
        awaitPlacedOn(2);
        String owner = accessToken(api.signUp("Rolling Org", "owner@rolling.test", "rolling-password"));
        createModel(api, owner, "rolling-digits", "private", new JsonObject());
        publishVersion(api, owner, "rolling-digits", "1.0.0", "digits_mlp");
        key = api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
    }

    @AfterAll
    static void stopCluster() throws Exception {
        for (NodeProcess n : new NodeProcess[] {apiNode, serving[1], serving[0]}) {
            if (n != null) {
                n.close();
            }
        }
        if (api != null) {
            api.close();
        }
        vertx.close().await(30, TimeUnit.SECONDS);
    }

    /** Until the api node's placement holds {@code n} serving nodes (what its readiness reports). */
    private static void awaitPlacedOn(int n) {
        await("the api node places calls on " + n + " serving node(s)").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> api.get("/health/ready", null).bodyAsJsonObject().getString("cluster", "").startsWith(n + " "));
    }

    @Test
    @DisplayName("SIGTERM, start again, then the other serving node, under steady load: every call 200, metered = answered")
    void rollingRestartLosesNoCall() throws Exception {
        JsonObject example = Publishing.manifest("digits_mlp").getJsonObject("example");
        ClosedLoop load = new ClosedLoop(vertx, CLIENTS, i -> api.request(HttpMethod.POST, "/v2/models/rolling-digits/infer", key)
                .timeout(20_000).sendJsonObject(example)).start();
        await("steady load").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> load.answered() >= 100);

        for (int i = 0; i < 2; i++) {
            long before = load.answered();
            long stoppedAt = System.nanoTime();
            assertEquals(0, serving[i].terminate(Duration.ofSeconds(45)), "a graceful stop exits 0:\n" + serving[i].logTail());
            long stopMillis = (System.nanoTime() - stoppedAt) / 1_000_000;
            assertTrue(load.answered() > before, "calls went on while serving node " + (i + 1) + " stopped");
            serving[i] = serving[i].startAgain();
            try (Api node = new Api(vertx, serving[i].httpPort)) {
                serving[i].awaitReady(node, Duration.ofSeconds(120));
            }
            awaitPlacedOn(2);
            long restarted = System.nanoTime();
            await("calls answered after serving node " + (i + 1) + " came back").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(50)).until(() -> load.answeredSince(restarted) >= 50);
            System.out.println("ClusterRollingRestartTest: serving node " + (i + 1) + " stopped in " + stopMillis
                    + " ms and was back in placement " + (restarted - stoppedAt) / 1_000_000 + " ms after the SIGTERM");
        }
        List<ClosedLoop.Call> calls = load.stop();

        System.out.println("ClusterRollingRestartTest: " + calls.size() + " calls, by status " + ClosedLoop.byStatus(calls));
        List<ClosedLoop.Call> failed = calls.stream().filter(c -> c.status() != 200).toList();
        assertTrue(failed.isEmpty(), () -> failed.size() + " of " + calls.size() + " calls did not answer 200, e.g. "
                + failed.stream().limit(5).map(c -> c.status() + " " + (c.response() == null ? c.error() : c.response().bodyAsString()))
                .toList() + "\napi log:\n" + apiNode.logTail());

        System.out.println("ClusterRollingRestartTest: answers by serving node process "
                + calls.stream().collect(Collectors.groupingBy(c -> Objects.toString(c.header("X-Served-By")), Collectors.counting())));

        await("metered calls equal the 200 answers").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertEquals(calls.size(), Sql.meteredCalls(db)));
    }
}
