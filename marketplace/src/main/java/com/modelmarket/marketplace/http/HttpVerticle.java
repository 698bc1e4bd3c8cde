package com.modelmarket.marketplace.http;

import com.modelmarket.marketplace.Services;
import com.modelmarket.marketplace.apikeys.ApiKeyRoutes;
import com.modelmarket.marketplace.auth.AuthRoutes;
import com.modelmarket.marketplace.catalog.CatalogRoutes;
import com.modelmarket.marketplace.inference.InferenceRoutes;
import com.modelmarket.marketplace.invoicing.InvoicingRoutes;
import com.modelmarket.marketplace.catalog.UploadRoutes;
import com.modelmarket.marketplace.plans.PlanRoutes;
import com.modelmarket.marketplace.subscriptions.SubscriptionRoutes;
import com.modelmarket.marketplace.health.HealthRoutes;
import com.modelmarket.marketplace.tenants.MemberRoutes;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.function.IntConsumer;

/** One HTTP server instance: the route table of the whole API. */
public final class HttpVerticle extends VerticleBase {

    /** How long a stopping server lets requests in flight finish before it closes their connections. */
    static final long DRAIN_SECONDS = 10;

    private final Services services;
    private final IntConsumer onListening;
    private HttpServer server;

    public HttpVerticle(Services services, IntConsumer onListening) {
        this.services = services;
        this.onListening = onListening;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        router.route().handler(RequestIds::handle);
        router.route().handler(ctx -> {
            ctx.response().putHeader("X-Content-Type-Options", "nosniff");
            ctx.next();
        });
        router.route().handler(new AccessLog(services.metrics()));
        router.route().handler(InputGuard::handle);
        router.get("/metrics").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                .end(services.metrics().scrape()));
        new InferenceRoutes(services.inference(), services.apiKeys(), services.database(),
                services.config().inferenceMaxBodyBytes()).mount(router);
        new UploadRoutes(vertx, services.modelStore(), services.accessTokens(), services.config().maxUploadBytes())
                .mount(router);
        router.route("/api/*").handler(JsonContentType::handle);
        router.route("/api/*").handler(BodyHandler.create(false)
                .setBodyLimit(services.config().maxJsonBodyBytes()));

        new HealthRoutes(services.database()).mount(router);
        new AuthRoutes(services.auth(), services.accessTokens()).mount(router);
        new MemberRoutes(services.members(), services.tenants(), services.accessTokens()).mount(router);
        new ApiKeyRoutes(services.apiKeys(), services.accessTokens()).mount(router);
        new CatalogRoutes(services.catalog(), services.search(), services.accessTokens()).mount(router);
        new PlanRoutes(services.plans(), services.accessTokens()).mount(router);
        new SubscriptionRoutes(services.subscriptions(), services.audit(), services.accessTokens()).mount(router);
        new InvoicingRoutes(services.invoicing(), services.usage(), services.accessTokens()).mount(router);
        StaticHandler webUi = StaticHandler.create("webroot").setCachingEnabled(false);
        router.get("/*").handler(HttpVerticle::webUiHeaders).handler(webUi);
        router.head("/*").handler(HttpVerticle::webUiHeaders).handler(webUi);
        router.route().handler(FallbackHandler.of(router));

        router.route().failureHandler(FailureHandler::handle);
        router.errorHandler(404, ctx -> Problems.send(ctx, Problems.forStatus(404)));
        router.errorHandler(500, FailureHandler::handle);

        HttpServerOptions options = new HttpServerOptions()
                .setPort(services.config().httpPort())
                .setHost(services.config().httpHost())
                .setCompressionSupported(true)
                .setMaxInitialLineLength(8192);
        return vertx.createHttpServer(options)
                .requestHandler(router)
                .listen()
                .onSuccess((HttpServer listening) -> {
                    server = listening;
                    onListening.accept(listening.actualPort());
                });
    }

    /** The web UI's pages: always revalidated (an upgrade takes effect at once), locked down by CSP. */
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static void webUiHeaders(io.vertx.ext.web.RoutingContext ctx) {
        ctx.response().putHeader("Cache-Control", "no-cache")
                .putHeader("Content-Security-Policy", CSP)
                .putHeader("Referrer-Policy", "same-origin");
        ctx.next();
    }

    /** Graceful: stop accepting, let requests in flight finish (bounded), then close. */
    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.shutdown(DRAIN_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
    }
}
