package com.modelmarket.marketplace.http;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/** Refuses a request body that is not JSON (415) before it is read. */
public final class JsonContentType {

    private JsonContentType() {
    }

    public static void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        HttpMethod method = request.method();
        boolean mayHaveBody = method == HttpMethod.POST || method == HttpMethod.PUT || method == HttpMethod.PATCH;
        if (mayHaveBody && hasBody(request) && !isJson(request.getHeader("Content-Type"))) {
            ctx.fail(new Problem(415, "unsupported-media-type", "Unsupported media type",
                    "Send the body as application/json"));
            return;
        }
        ctx.next();
    }

    private static boolean hasBody(HttpServerRequest request) {
        String length = request.getHeader("Content-Length");
        return request.getHeader("Transfer-Encoding") != null || (length != null && !"0".equals(length.trim()));
    }

    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        String mime = contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        return mime.equals("application/json") || (mime.startsWith("application/") && mime.endsWith("+json"));
    }
}
