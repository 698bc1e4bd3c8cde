package com.modelmarket.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;

/**
 * The load generator's yardstick: an HTTP server on one event loop that answers every request with
 * 200 and two bytes, reading the body if there is one. {@code bench/run.sh} runs wrk against it
 * with the same CPU budget as against the platform; whatever rate wrk reaches here, using how much
 * of its core, bounds what wrk could measure anywhere (issue 20: at least 3x the platform's best).
 *
 * <pre>java -cp ... com.modelmarket.bench.TrivialServer PORT</pre>
 */
public final class TrivialServer {

    private TrivialServer() {
    }

    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true));
        Buffer ok = Buffer.buffer("ok");
        vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port))
                .requestHandler(req -> req.body().onComplete(body -> req.response().end(ok)))
                .listen()
                .onSuccess(s -> System.out.println("listening on " + s.actualPort()))
                .onFailure(err -> {
                    err.printStackTrace();
                    System.exit(1);
                });
    }
}
