package com.modelmarket.marketplace.http;

import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/**
 * The API's routes, mounted by each {@link HttpVerticle} between the cross-cutting handlers in
 * front (request ids, connection guard, access log, drain, input guard) and the web UI, fallback
 * and failure handlers behind. The composition root supplies it, so this package knows no feature.
 */
@FunctionalInterface
public interface ApiRoutes {

    void mount(Vertx vertx, Router router);
}
