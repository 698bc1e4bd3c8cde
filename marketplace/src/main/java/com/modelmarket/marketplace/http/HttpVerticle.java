package com.modelmarket.marketplace.http;

import com.modelmarket.marketplace.Services;
import com.modelmarket.marketplace.apikeys.ApiKeyRoutes;
import com.modelmarket.marketplace.auth.AuthRoutes;
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

    private final Services services;
    private final IntConsumer onListening;

    public HttpVerticle(Services services, IntConsumer onListening) {
        this.services = services;
        this.onListening = onListening;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        router.route().handler(RequestIds::handle);
        router.route("/api/*").handler(JsonContentType::handle);
        router.route("/api/*").handler(BodyHandler.create(false)
                .setBodyLimit(services.config().maxJsonBodyBytes()));

        new HealthRoutes(services.database()).mount(router);
        new AuthRoutes(services.auth(), services.accessTokens()).mount(router);
        new MemberRoutes(services.members(), services.tenants(), services.accessTokens()).mount(router);
        new ApiKeyRoutes(services.apiKeys(), services.accessTokens()).mount(router);
        StaticHandler webUi = StaticHandler.create("webroot").setCachingEnabled(true);
        router.get("/*").handler(webUi);
        router.head("/*").handler(webUi);
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
                .onSuccess((HttpServer server) -> onListening.accept(server.actualPort()));
    }
}
