package com.modelmarket.serving.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.HostConfig;
import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.ModelRejectedException.Check;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.ServingConfig;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The wall around publisher code: a TorchScript model that reads and writes files with {@code
 * torch.from_file} (made by {@code fixtures/make_fixtures.py}) is refused up front, and with that
 * courtesy check switched off its code still cannot see or change the platform's secrets; the
 * sandbox has no network and no view of other processes.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SandboxTest {

    private static final Path FIXTURES = Path.of(System.getProperty("modelmarket.fixtures", "fixtures"));
    private static final String SECRET = "-----BEGIN PRIVATE KEY-----\nnot-for-models\n-----END PRIVATE KEY-----\n";

    @TempDir
    static Path data;
    private Vertx vertx;
    private ModelStore store;
    private Path secret;
    private Path hostsDir;
    private ServingEngine checked;
    private ServingEngine unchecked;

    @BeforeAll
    void start(Vertx vertx) throws Exception {
        this.vertx = vertx;
        // a data directory laid out like the platform's: keys beside the model store and the hosts
        store = new ModelStore(data.resolve("models"));
        secret = Files.createDirectories(data.resolve("keys")).resolve("jwt-es256-private.pem");
        Files.writeString(secret, SECRET);
        hostsDir = data.resolve("hosts");
        HostConfig hosts = HostConfig.defaults().withDirs(hostsDir, null);
        checked = await(ServingEngine.create(vertx, ServingConfig.defaults().withHosts(hosts), new SimpleMeterRegistry()));
        unchecked = await(ServingEngine.create(vertx,
                ServingConfig.defaults().withHosts(hosts.withStaticCheck(false)), new SimpleMeterRegistry()));
    }

    @AfterAll
    void stop() {
        await(checked.close());
        await(unchecked.close());
    }

    private StoredArtifact probeArtifact() throws IOException {
        try (InputStream in = Files.newInputStream(FIXTURES.resolve("file_probe.pt"))) {
            return store.put(in, 1 << 20);
        }
    }

    private static ModelManifest probeManifest() throws IOException {
        return ModelManifest.fromJson(new JsonObject(Files.readString(FIXTURES.resolve("file_probe.json"))));
    }

    private static InferenceRequest touch(Path file, int bytes, boolean write) {
        byte[] name = file.toString().getBytes(StandardCharsets.UTF_8);
        long[] codes = new long[name.length];
        for (int i = 0; i < name.length; i++) {
            codes[i] = name[i];
        }
        return new InferenceRequest(List.of(Tensor.ofLongs("path", new long[] {1, codes.length}, codes),
                Tensor.ofLongs("count", new long[] {1, 1}, bytes),
                Tensor.ofLongs("mode", new long[] {1, 1}, write ? 1 : 0)), List.of(), null);
    }

    @Test
    @DisplayName("a model whose code calls torch.from_file is refused before anything runs, naming the op")
    void staticCheckRefusesFileOps() throws Exception {
        Throwable err = failure(checked.load(new ModelKey("evil", "probe", "1"), probeArtifact(), probeManifest(),
                PoolConfig.defaults()));
        ModelRejectedException rejected = assertInstanceOf(ModelRejectedException.class, err);
        assertEquals(Check.UNSAFE_OP, rejected.check());
        assertEquals("unsafe-op", rejected.check().wireName());
        assertTrue(rejected.reason().contains("torch.from_file"), rejected.reason());
    }

    @Test
    @DisplayName("with the static check off, the same model can neither read nor overwrite the platform's files")
    void sandboxHoldsWithoutTheStaticCheck() throws Exception {
        ModelKey key = new ModelKey("evil", "probe", "2");
        await(unchecked.load(key, probeArtifact(), probeManifest(), PoolConfig.defaults().withCalibration(java.time.Duration.ZERO)));
        // the model does run: it reads its own scratch folder
        Path own = Path.of(HostLauncher.SCRATCH, "mine.bin");
        InferenceFailedException missing = assertInstanceOf(InferenceFailedException.class,
                failure(unchecked.infer(key, touch(own, 4, false))));
        assertTrue(missing.getMessage().contains("No such file") || missing.getMessage().contains("mine.bin"),
                missing.getMessage());
        assertEquals(66, await(unchecked.infer(key, touch(own, 4, true))).output("data").toByteArray()[0],
                "a write into its own scratch folder works");
        long before = Files.size(secret);
        List<Path> targets = List.of(secret, Path.of("/etc/passwd"), data.resolve("models").resolve(probeArtifact().sha256()),
                Path.of("/proc", "" + ProcessHandle.current().pid(), "environ"));
        for (Path target : targets) {
            for (boolean write : new boolean[] {false, true}) {
                Future<?> call = unchecked.infer(key, touch(target, 16, write));
                Throwable err = call.toCompletionStage().toCompletableFuture().handle((r, e) -> e).get(1, TimeUnit.MINUTES);
                assertInstanceOf(InferenceFailedException.class, err instanceof java.util.concurrent.CompletionException
                        ? err.getCause() : err, (write ? "write " : "read ") + target + " was allowed");
            }
        }
        assertEquals(SECRET, Files.readString(secret), "the key file is unchanged");
        assertEquals(before, Files.size(secret));
        assertTrue(Files.readString(Path.of("/etc/passwd")).contains("root:"), "/etc/passwd is unchanged");
        await(unchecked.unload(key));
    }

    @Test
    @DisplayName("inside the sandbox: no TCP to 127.0.0.1, no secret files, no other processes (and outside it all works)")
    void sandboxHasNoNetworkFilesOrProcesses() throws Exception {
        HostLauncher launcher = new HostLauncher(HostConfig.defaults(), HostLauncher.defaultNativeDir());
        Path dir = Files.createDirectories(data.resolve("probe"));
        Path models = Files.createDirectories(dir.resolve("models"));
        Path scratch = Files.createDirectories(dir.resolve("scratch"));
        Path socket = Files.writeString(dir.resolve("host.sock"), "");
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String connect = "exec 3<>/dev/tcp/127.0.0.1/" + listener.getLocalPort() + " && echo connected";
            assertEquals("connected", run(List.of("bash", "-c", connect)).trim(), "outside, the port answers");
            String inside = run(launcher.sandboxed(models, scratch, socket, 1, List.of("bash", "-c", connect + " 2>&1; echo exit=$?")));
            assertFalse(inside.contains("connected"), inside);
            assertTrue(inside.contains("exit=1"), inside);
        }
        String cat = run(launcher.sandboxed(models, scratch, socket, 1,
                List.of("bash", "-c", "cat " + secret + " 2>&1; ls " + data + " 2>&1; ls /proc | grep -c '^[0-9]'; id -u")));
        assertFalse(cat.contains("not-for-models"), cat);
        assertTrue(cat.contains(secret + ": No such file"), cat);
        assertTrue(cat.contains("cannot access '" + data + "'"), "the data directory is not there: " + cat);
        List<String> lines = cat.lines().toList();
        int processes = Integer.parseInt(lines.get(lines.size() - 2).trim());
        assertTrue(processes <= 4, "only the sandbox's own processes are visible: " + processes);
        assertEquals("65534", lines.get(lines.size() - 1).trim());
        String limits = run(launcher.sandboxed(models, scratch, socket, 1, List.of("bash", "-c",
                "ulimit -f; ulimit -n; ulimit -u")));
        assertEquals(List.of("" + (HostConfig.defaults().fileSizeLimitBytes() / 1024),
                "" + HostConfig.defaults().openFilesLimit(), "" + HostConfig.defaults().processLimit()),
                limits.lines().map(String::trim).toList());
    }

    @Test
    @DisplayName("one host per publisher: two owners' models run in two processes, one owner's in one (under a deep data directory)")
    void oneHostPerPublisher() throws Exception {
        // deeper than a Unix socket path may be (107 bytes): the hosts' sockets must live elsewhere
        Path deep = data.resolve("a-data-directory-nested-deeply-".repeat(4)).resolve("hosts-2");
        HostedRuntime runtime = new HostedRuntime(vertx, ServingConfig.defaults().withHosts(
                HostConfig.defaults().withDirs(deep, null)));
        try {
            StoredArtifact mlp;
            try (InputStream in = Files.newInputStream(FIXTURES.resolve("digits_mlp.pt"))) {
                mlp = store.put(in, 1 << 20);
            }
            ModelManifest manifest = ModelManifest.fromJson(new JsonObject(Files.readString(FIXTURES.resolve("digits_mlp.json"))));
            await(runtime.load(new ModelKey("a", "m", "1"), mlp, manifest));
            await(runtime.load(new ModelKey("a", "m", "2"), mlp, manifest));
            await(runtime.load(new ModelKey("b", "m", "1"), mlp, manifest));
            List<com.modelmarket.serving.HostStatus> hosts = new ArrayList<>(runtime.hosts());
            assertEquals(2, hosts.size(), hosts.toString());
            hosts.sort(java.util.Comparator.comparing(com.modelmarket.serving.HostStatus::owner));
            assertEquals(2, hosts.get(0).models());
            assertEquals(1, hosts.get(1).models());
            assertNotEquals(hosts.get(0).pid(), hosts.get(1).pid());
            assertTrue(hosts.get(0).residentBytes() > 0);
            System.out.printf("model hosts: %s%n", hosts);
        } finally {
            await(runtime.close());
        }
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return out;
    }

    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new AssertionError(e.getCause() != null ? e.getCause() : e);
        }
    }

    static Throwable failure(Future<?> future) {
        try {
            future.toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("expected a failure");
    }
}
