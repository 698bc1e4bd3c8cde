package com.modelmarket.marketplace.http;

import com.modelmarket.marketplace.config.AppConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP server instance: the cross-cutting handlers, the API's routes (supplied as
 * {@link ApiRoutes}), the web UI, the failure handling, and the management listener.
 */
public final class HttpVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(HttpVerticle.class);

    /** How long a stopping server lets requests in flight finish before it closes their connections. */
    public static final long DRAIN_SECONDS = 10;

    private final AppConfig config;
    private final PrometheusMeterRegistry metrics;
    private final ApiRoutes api;
    private final IntConsumer onListening;
    private final IntConsumer onManagementListening;
    private final Drain drain;
    private HttpServer server;
    private HttpServer management;

    public HttpVerticle(AppConfig config, PrometheusMeterRegistry metrics, ApiRoutes api, IntConsumer onListening,
                        IntConsumer onManagementListening, Drain drain) {
        this.config = config;
        this.metrics = metrics;
        this.api = api;
        this.onListening = onListening;
        this.onManagementListening = onManagementListening;
        this.drain = drain;
    }

    @Override
    public Future<?> start() {
        ConnectionGuard guard = new ConnectionGuard(vertx, new ConnectionGuard.Limits(config.httpHeaderTimeout(),
                config.httpIdleTimeout(), config.httpBodyTimeout(), config.uploadTimeout(),
                config.httpMaxConnectionsPerAddress()));
        Router router = Router.router(vertx);
        router.route().handler(RequestIds::handle);
        router.route().handler(guard::handle);
        router.route().handler(ctx -> {
            ctx.response().putHeader("X-Content-Type-Options", "nosniff");
            ctx.next();
        });
        router.route().handler(new AccessLog(metrics));
        router.route().handler(drain::handle);
        router.route().handler(InputGuard::handle);
        api.mount(vertx, router);
        StaticHandler webUi = StaticHandler.create("webroot").setCachingEnabled(false);
        router.get("/*").handler(HttpVerticle::webUiHeaders).handler(webUi);
        router.head("/*").handler(HttpVerticle::webUiHeaders).handler(webUi);
        router.route().handler(FallbackHandler.of(router));

        router.route().failureHandler(FailureHandler::handle);
        router.errorHandler(404, ctx -> Problems.send(ctx, Problems.forStatus(404)));
        router.errorHandler(500, FailureHandler::handle);

        HttpServerOptions options = new HttpServerOptions()
                .setPort(config.httpPort())
                .setHost(config.httpHost())
                .setCompressionSupported(true)
                .setMaxInitialLineLength(8192)
                .setIdleTimeout((int) config.httpIdleTimeout().toSeconds())
                .setIdleTimeoutUnit(TimeUnit.SECONDS)
                // HTTP/1.1 only: the per-connection deadlines above are per request, one at a time
                .setHttp2ClearTextEnabled(false);
        return vertx.createHttpServer(options)
                .connectionHandler(guard::onConnection)
                .invalidRequestHandler(ConnectionGuard::invalidRequest)
                .requestHandler(request -> {
                    if (guard.onRequest(request)) {
                        router.handle(request);
                    }
                })
                .listen()
                .onSuccess((HttpServer listening) -> {
                    guard.listening(listening.actualPort());
                    server = listening;
                    onListening.accept(listening.actualPort());
                })
                .compose(listening -> listenManagement());
    }

    /**
     * The management listener: {@code /metrics} for Prometheus, on its own port and by default on
     * loopback only — the metrics name every model, private ones included, with their traffic, so
     * they are never served on the public port. {@code management.port=-1} turns it off.
     */
    private Future<?> listenManagement() {
        int port = config.managementPort();
        if (port < 0) {
            return Future.succeededFuture();
        }
        ConnectionGuard guard = new ConnectionGuard(vertx, new ConnectionGuard.Limits(config.httpHeaderTimeout(),
                config.httpIdleTimeout(), config.httpBodyTimeout(), config.uploadTimeout(),
                config.httpMaxConnectionsPerAddress()));
        Router router = Router.router(vertx);
        router.route().handler(RequestIds::handle);
        router.route().handler(guard::handle);
        router.get("/metrics").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                .end(metrics.scrape()));
        router.route().handler(ctx -> Problems.send(ctx, Problems.forStatus(404)));
        router.route().failureHandler(FailureHandler::handle);
        return vertx.createHttpServer(new HttpServerOptions().setPort(port).setHost(config.managementHost())
                        .setIdleTimeout(60))
                .requestHandler(router)
                .listen()
                .onSuccess(listening -> {
                    management = listening;
                    onManagementListening.accept(listening.actualPort());
                });
    }

    /** The web UI's pages: always revalidated (an upgrade takes effect at once), locked down by CSP. */
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static void webUiHeaders(RoutingContext ctx) {
        ctx.response().putHeader("Cache-Control", "no-cache")
                .putHeader("Content-Security-Policy", CSP)
                .putHeader("Referrer-Policy", "same-origin");
        ctx.next();
    }

    /**
     * Closes the listening socket and every connection once its response in progress is written,
     * waiting at most {@code timeout}. Call it after {@link Drain#drain}: Vert.x drops a request
     * that a connection had received but not yet read when the shutdown began, and resets the
     * connections still in the accept backlog, so the drain must have answered those first.
     */
    public Future<Void> shutdown(Duration timeout) {
        Future<Void> managed = management == null ? Future.succeededFuture() : management.close();
        Future<Void> api = server == null ? Future.succeededFuture() : server.shutdown(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return Future.join(managed, api).mapEmpty();
    }

    /** Normally a no-op: {@code Platform.stop} has drained and shut the server down before undeploying. */
    @Override
    public Future<?> stop() {
        return shutdown(Duration.ofSeconds(DRAIN_SECONDS));
    }

    /**
     * Requests in flight across all HTTP instances, and the switch that turns new ones away while
     * the platform stops: those get a clean 503 with {@code Retry-After} and {@code Connection:
     * close} (a load balancer retries them elsewhere) rather than a reset connection.
     */
    public static final class Drain {

        /**
         * How long after the drain began, and after the last request in flight was answered, the
         * drain still waits: requests already sent but not yet read get their 503 meanwhile.
         * Refused requests do not extend it, so steady traffic cannot hold a stop up.
         */
        static final Duration QUIET = Duration.ofMillis(250);

        private final AtomicInteger inFlight = new AtomicInteger();
        private volatile long lastAnswer = System.nanoTime();
        private volatile boolean draining;

        void handle(RoutingContext ctx) {
            if (draining) {
                ctx.response().putHeader("Connection", "close");
                Problems.send(ctx, new Problem(503, "shutting-down", "Service unavailable",
                        "The server is shutting down; try again", List.of(), Map.of("Retry-After", "1")));
                return;
            }
            inFlight.incrementAndGet();
            // An answer written while the server drains tells the client not to reuse the connection.
            ctx.addHeadersEndHandler(v -> {
                if (draining) {
                    ctx.response().putHeader("Connection", "close");
                }
            });
            ctx.addEndHandler(ended -> {
                inFlight.decrementAndGet();
                lastAnswer = System.nanoTime();
            });
            ctx.next();
        }

        /**
         * Turns new requests away and completes once every request in flight is answered and
         * {@link #QUIET} has passed (connections still in the accept backlog get their 503
         * meanwhile), or after {@code bound}; the listening socket stays open all along.
         */
        public Future<Void> drain(Vertx vertx, Duration bound) {
            draining = true;
            lastAnswer = System.nanoTime();
            long deadline = System.nanoTime() + bound.toNanos();
            Promise<Void> done = Promise.promise();
            vertx.setPeriodic(20, id -> {
                long now = System.nanoTime();
                boolean quiet = inFlight.get() == 0 && now - lastAnswer >= QUIET.toNanos();
                if (quiet || now - deadline >= 0) {
                    vertx.cancelTimer(id);
                    if (!quiet) {
                        LOG.warn("{} request(s) still in flight after the {} s drain", inFlight.get(), bound.toSeconds());
                    }
                    done.tryComplete();
                }
            });
            return done.future();
        }
    }
}
