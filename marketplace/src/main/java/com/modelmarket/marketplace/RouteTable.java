package com.modelmarket.marketplace;

import com.modelmarket.marketplace.apikeys.ApiKeyRoutes;
import com.modelmarket.marketplace.auth.AuthRoutes;
import com.modelmarket.marketplace.catalog.CatalogRoutes;
import com.modelmarket.marketplace.catalog.UploadRoutes;
import com.modelmarket.marketplace.health.HealthRoutes;
import com.modelmarket.marketplace.http.ApiRoutes;
import com.modelmarket.marketplace.http.JsonContentType;
import com.modelmarket.marketplace.inference.InferenceRoutes;
import com.modelmarket.marketplace.invoicing.InvoicingRoutes;
import com.modelmarket.marketplace.plans.PlanRoutes;
import com.modelmarket.marketplace.subscriptions.SubscriptionRoutes;
import com.modelmarket.marketplace.training.TrainingRoutes;
import com.modelmarket.marketplace.evaluation.EvaluationRoutes;
import com.modelmarket.marketplace.members.MemberRoutes;
// issue 18 part 2: publish gates and canary splits
import com.modelmarket.marketplace.canary.CanaryRoutes;
import com.modelmarket.marketplace.gates.GateRoutes;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The route table of the whole API: every feature's {@code *Routes} on one screen. Inference and
 * uploads read their own bodies (streamed, with their own limits), so they are mounted before
 * the JSON content-type check and body handler that every {@code /api} route behind them gets.
 */
final class RouteTable implements ApiRoutes {

    private final Services services;

    RouteTable(Services services) {
        this.services = services;
    }

    @Override
    public void mount(Vertx vertx, Router router) {
        var config = services.config();
        new InferenceRoutes(services.inference(), services.apiKeys(), services.database(),
                config.inferenceMaxBodyBytes()).mount(router);
        new UploadRoutes(vertx, services.modelStore(), services.catalog(), services.accessTokens(), config.maxUploadBytes())
                .mount(router);
        router.route("/api/*").handler(JsonContentType::handle);
        router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(config.maxJsonBodyBytes()));

        new HealthRoutes(services.database(), services.cluster()).mount(router);
        new AuthRoutes(services.auth(), services.accessTokens()).mount(router);
        new MemberRoutes(services.members(), services.tenants(), services.accessTokens()).mount(router);
        new ApiKeyRoutes(services.apiKeys(), services.accessTokens()).mount(router);
        new CatalogRoutes(services.catalog(), services.search(), services.accessTokens()).mount(router);
        new PlanRoutes(services.plans(), services.accessTokens()).mount(router);
        new SubscriptionRoutes(services.subscriptions(), services.audit(), services.accessTokens()).mount(router);
        new InvoicingRoutes(services.invoicing(), services.usage(), services.accessTokens()).mount(router);
        new TrainingRoutes(vertx, services.datasets(), services.training(), services.accessTokens()).mount(router);
        new EvaluationRoutes(services.evaluation(), services.accessTokens()).mount(router); // issue 18
        // issue 18 part 2: publish gates and canary splits
        new GateRoutes(services.gates(), services.accessTokens()).mount(router);
        new CanaryRoutes(services.canary(), services.accessTokens()).mount(router);
    }
}
