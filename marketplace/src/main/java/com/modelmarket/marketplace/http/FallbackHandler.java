package com.modelmarket.marketplace.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The last handler of the router: a request nothing answered is a 405 (with {@code Allow}) when
 * its path is a known resource with other methods, else a 404. Built from the router's own route
 * table, so it never drifts from it; catch-all routes (the web UI's files) do not count.
 */
public final class FallbackHandler implements Handler<RoutingContext> {

    private record Resource(Pattern path, Set<HttpMethod> methods) {
    }

    private final List<Resource> resources;

    private FallbackHandler(List<Resource> resources) {
        this.resources = resources;
    }

    /** Call after every route is mounted. */
    public static FallbackHandler of(Router router) {
        List<Resource> resources = new ArrayList<>();
        for (Route route : router.getRoutes()) {
            String path = route.getPath();
            Set<HttpMethod> methods = route.methods();
            if (path == null || route.isRegexPath() || methods == null || methods.isEmpty() || path.endsWith("*")) {
                continue;
            }
            String regex = Pattern.quote(path).replaceAll(":[A-Za-z0-9_]+", "\\\\E[^/]+\\\\Q");
            resources.add(new Resource(Pattern.compile(regex), Set.copyOf(methods)));
        }
        return new FallbackHandler(resources);
    }

    @Override
    public void handle(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        TreeSet<String> allowed = new TreeSet<>();
        for (Resource resource : resources) {
            if (resource.path().matcher(path).matches()) {
                resource.methods().forEach(m -> allowed.add(m.name()));
            }
        }
        if (allowed.isEmpty()) {
            Problems.send(ctx, Problems.forStatus(404));
        } else {
            ctx.response().putHeader("Allow", String.join(", ", allowed));
            Problems.send(ctx, Problems.forStatus(405));
        }
    }
}
