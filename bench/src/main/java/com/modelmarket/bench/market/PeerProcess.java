package com.modelmarket.bench.market;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The peer: {@code bench/peer/peer_server.py} (FastAPI + uvicorn + PyTorch) serving the same models. */
final class PeerProcess extends ManagedProcess implements SystemUnderTest {

    static final String PYTHON = "/usr/bin/python3";

    private final int port;

    private PeerProcess(List<String> command, String cpus, Path log, int port) throws IOException {
        super("peer", cpus, command, Map.of("PYTHONDONTWRITEBYTECODE", "1", "OMP_NUM_THREADS", "1"), log);
        this.port = port;
    }

    static PeerProcess start(Path script, Path runDir, String cpus, List<BenchModel> models) throws IOException {
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(PYTHON, script.toString(), "--port", Integer.toString(port)));
        for (BenchModel m : models) {
            command.addAll(List.of("--model", m.slug() + "=" + m.artifact()));
        }
        return new PeerProcess(command, cpus, runDir.resolve("peer.log"), port);
    }

    void awaitReady(Vertx vertx) {
        try (Http http = new Http(vertx, port)) {
            awaitReady(() -> {
                try {
                    return http.get("/v2/health/ready", null).status() == 200;
                } catch (RuntimeException e) {
                    return false;
                }
            }, Duration.ofSeconds(120));
        }
    }

    /** Python, torch, FastAPI and uvicorn versions and the torch thread count, as the peer reports them. */
    JsonObject versions(Vertx vertx) {
        try (Http http = new Http(vertx, port)) {
            return http.get("/versions", null).expect(200, "peer versions").json();
        }
    }

    @Override
    public int port() {
        return port;
    }
}
