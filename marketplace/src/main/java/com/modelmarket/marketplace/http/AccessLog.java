package com.modelmarket.marketplace.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Handler;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One access-log line per request (method, path, status, latency, tenant, model, request id —
 * never a credential) and the HTTP request timer for {@code /metrics}, tagged by route template
 * so that ids do not explode the series.
 */
public final class AccessLog implements Handler<RoutingContext> {

    private static final Logger LOG = LoggerFactory.getLogger("modelmarket.access");

    private final MeterRegistry registry;
    /** Timers by method, route template and status: a bounded set, looked up once each. */
    private final Map<TimerKey, Timer> timers = new ConcurrentHashMap<>();

    private record TimerKey(String method, String route, int status) {
    }

    public AccessLog(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void handle(RoutingContext ctx) {
        long start = System.nanoTime();
        ctx.addBodyEndHandler(v -> {
            long nanos = System.nanoTime() - start;
            int status = ctx.response().getStatusCode();
            String tenant = tenant(ctx);
            Object model = ctx.get("model");
            if (LOG.isInfoEnabled()) {
                // the line built once, at about its size: "{} {} {} {}us tenant={} model={} requestId={}"
                // through the message formatter boxed the numbers, made an argument array and grew
                // its builder twice per request
                LOG.info(new StringBuilder(192).append(ctx.request().method()).append(' ').append(ctx.request().path())
                        .append(' ').append(status).append(' ').append(nanos / 1000).append("us tenant=").append(tenant)
                        .append(" model=").append(model == null ? "-" : model).append(" requestId=").append(RequestIds.of(ctx))
                        .toString());
            }
            Route route = ctx.currentRoute();
            String template = route == null || route.getPath() == null ? "unmatched" : route.getPath();
            String tag = status == 404 && route != null && template.endsWith("*") ? "unmatched" : template;
            TimerKey key = new TimerKey(ctx.request().method().name(), tag, status);
            Timer timer = timers.get(key); // a hit builds no registering lambda
            if (timer == null) {
                timer = timers.computeIfAbsent(key, k -> Timer
                        .builder("http.server.requests")
                        .tag("method", k.method())
                        .tag("route", k.route())
                        .tag("status", Integer.toString(k.status()))
                        .register(registry));
            }
            timer.record(nanos, TimeUnit.NANOSECONDS);
        });
        ctx.next();
    }

    private static final String TENANT = "accessLog.tenant";

    /** Names the caller's tenant in the access log; the authentication handlers call it. */
    public static void tenant(RoutingContext ctx, java.util.UUID tenantId) {
        ctx.put(TENANT, tenantId);
    }

    private static String tenant(RoutingContext ctx) {
        Object tenantId = ctx.get(TENANT);
        return tenantId == null ? "-" : tenantId.toString();
    }
}
