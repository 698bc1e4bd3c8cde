package com.modelmarket.marketplace.http;

import com.modelmarket.marketplace.errors.BadRequestException;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;

/**
 * Refuses paths and query parameters that carry control characters (NUL above all, which
 * PostgreSQL cannot store): a clear 400 instead of a database error later.
 */
public final class InputGuard {

    /** A percent-encoded C0 control character, which path parameters would decode. */
    private static final java.util.regex.Pattern ENCODED_CONTROL = java.util.regex.Pattern.compile("%[01][0-9A-Fa-f]");

    private InputGuard() {
    }

    public static void handle(RoutingContext ctx) {
        if (hasControl(ctx.normalizedPath()) || ENCODED_CONTROL.matcher(ctx.request().path()).find()) {
            ctx.fail(new BadRequestException("The path contains control characters"));
            return;
        }
        if (ctx.request().query() == null) {
            ctx.next(); // no query string: no parameters to look at, and no map to build for them
            return;
        }
        for (Map.Entry<String, String> param : ctx.queryParams()) {
            if (hasControl(param.getKey()) || hasControl(param.getValue())) {
                ctx.fail(new BadRequestException("Query parameter '" + printable(param.getKey()) + "' contains control characters"));
                return;
            }
        }
        ctx.next();
    }

    /** True for NUL and the other C0 control characters except tab, line feed and carriage return. */
    public static boolean hasControl(String s) {
        if (s == null) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                return true;
            }
        }
        return false;
    }

    private static String printable(String s) {
        return s.replaceAll("\\p{Cntrl}", "?");
    }
}
