package com.modelmarket.marketplace.health;

import com.modelmarket.marketplace.db.Database;
import com.modelmarket.marketplace.errors.NotReadyException;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** {@code /health/live} (the process answers) and {@code /health/ready} (the database answers, schema current). */
public final class HealthRoutes {

    private final Database database;

    public HealthRoutes(Database database) {
        this.database = database;
    }

    public void mount(Router router) {
        router.get("/health/live").handler(ctx -> Responses.json(ctx, 200, new JsonObject().put("status", "up")));
        router.get("/health/ready").handler(this::ready);
    }

    private void ready(RoutingContext ctx) {
        database.ready().onComplete(result -> {
            if (result.succeeded() && Boolean.TRUE.equals(result.result())) {
                Responses.json(ctx, 200, new JsonObject().put("status", "ready").put("database", "up"));
            } else {
                ctx.fail(new NotReadyException("The database is unreachable or its schema is not current"));
            }
        });
    }
}
