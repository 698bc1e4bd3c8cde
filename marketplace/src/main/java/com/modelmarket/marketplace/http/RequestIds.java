package com.modelmarket.marketplace.http;

import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Gives every request an id: the caller's {@code X-Request-Id} when it is a sane token, else a new
 * UUID. The id is echoed on every response and appears in logs and problem documents.
 */
public final class RequestIds {

    public static final String HEADER = "X-Request-Id";
    private static final String KEY = "requestId";
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._:-]{8,128}");

    private RequestIds() {
    }

    public static void handle(RoutingContext ctx) {
        String incoming = ctx.request().getHeader(HEADER);
        String id = incoming != null && SAFE.matcher(incoming).matches() ? incoming : UUID.randomUUID().toString();
        ctx.put(KEY, id);
        ctx.response().putHeader(HEADER, id);
        ctx.next();
    }

    public static String of(RoutingContext ctx) {
        return ctx.get(KEY);
    }
}
