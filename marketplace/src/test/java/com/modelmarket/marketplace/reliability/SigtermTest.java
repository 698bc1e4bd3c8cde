package com.modelmarket.marketplace.reliability;

import static com.modelmarket.marketplace.support.Api.accessToken;
import static com.modelmarket.marketplace.support.Publishing.createModel;
import static com.modelmarket.marketplace.support.Publishing.publishVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.marketplace.Main;
import com.modelmarket.marketplace.support.Api;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.marketplace.support.TestDatabases;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The real process: SIGTERM under load drains within a bounded time and exits 0; usage is kept. */
@ExtendWith(VertxExtension.class)
class SigtermTest {

    @Test
    @DisplayName("SIGTERM under load drains, flushes usage and exits 0 within the bound")
    void sigtermUnderLoad(Vertx vertx, @TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        var db = TestDatabases.freshDatabase();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Xmx512m", Main.class.getName())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("server.log").toFile());
        pb.environment().put("MM_HTTP_PORT", Integer.toString(port));
        pb.environment().put("MM_HTTP_HOST", "127.0.0.1");
        pb.environment().put("MM_DATA_DIR", dir.resolve("data").toString());
        pb.environment().put("MM_DB_URL", TestDatabases.url(db));
        pb.environment().put("MM_PASSWORD_ARGON2_MEMORY_KIB", "1024");
        pb.environment().put("MM_PASSWORD_ARGON2_ITERATIONS", "1");
        Process server = pb.start();
        try (Api api = new Api(vertx, port)) {
            long deadline = System.currentTimeMillis() + 120_000;
            while (System.currentTimeMillis() < deadline) {
                try {
                    if (api.get("/health/ready", null).statusCode() == 200) {
                        break;
                    }
                } catch (RuntimeException notYet) {
                    Thread.sleep(300);
                }
            }
            String owner = accessToken(api.signUp("Sigterm Org", "owner@sigterm.test", "sigterm-password"));
            createModel(api, owner, "sigterm-digits", "private", new JsonObject());
            publishVersion(api, owner, "sigterm-digits", "1.0.0", "digits_mlp");
            String key = api.post("/api/v1/api-keys", owner, new JsonObject().put("name", "k")).bodyAsJsonObject().getString("secret");
            List<Future<HttpResponse<Buffer>>> calls = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                calls.add(api.request(HttpMethod.POST, "/v2/models/sigterm-digits/infer", key)
                        .sendJsonObject(Publishing.manifest("digits_mlp").getJsonObject("example")));
            }
            long t0 = System.nanoTime();
            server.destroy(); // SIGTERM
            assertTrue(server.waitFor(Main.STOP_SECONDS + 15, TimeUnit.SECONDS), "the server did not stop in time");
            long stopMillis = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(0, server.exitValue(), "exit code after SIGTERM (log: " + dir.resolve("server.log") + ")");
            Api.await(Future.join(calls).otherwiseEmpty());
            long answered = calls.stream().filter(f -> f.succeeded() && f.result().statusCode() == 200).count();
            long metered = com.modelmarket.marketplace.support.Sql.count(db, "SELECT count(*) FROM usage_records");
            assertTrue(metered >= answered, "answered " + answered + " but metered " + metered);
            System.out.println("SigtermTest: stopped in " + stopMillis + " ms, exit 0, answered " + answered + ", metered " + metered);
        } finally {
            if (server.isAlive()) {
                server.destroyForcibly();
            }
        }
    }
}
