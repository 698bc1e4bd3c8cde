package com.modelmarket.marketplace.health;

import com.modelmarket.marketplace.cluster.ClusterNode;
import com.modelmarket.marketplace.db.Database;
import com.modelmarket.marketplace.errors.NotReadyException;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** {@code /health/live} (the process answers) and {@code /health/ready} (the database answers, schema current, and in a cluster the cluster is reachable). */
public final class HealthRoutes {

    private final Database database;
    private final ClusterNode cluster;

    public HealthRoutes(Database database, ClusterNode cluster) {
        this.database = database;
        this.cluster = cluster;
    }

    public void mount(Router router) {
        router.get("/health/live").handler(ctx -> Responses.json(ctx, 200, new JsonObject().put("status", "up")));
        router.get("/health/ready").handler(this::ready);
    }

    private void ready(RoutingContext ctx) {
        database.ready().onComplete(result -> {
            if (!result.succeeded() || !Boolean.TRUE.equals(result.result())) {
                ctx.fail(new NotReadyException("The database is unreachable or its schema is not current"));
            } else if (!cluster.reachable()) {
                ctx.fail(new NotReadyException("This node cannot reach the cluster: " + cluster.describe()));
            } else {
                Responses.json(ctx, 200, new JsonObject().put("status", "ready").put("database", "up")
                        .put("cluster", cluster.describe()));
            }
        });
    }
}
