package com.modelmarket.marketplace.http;

import com.modelmarket.marketplace.errors.BadRequestException;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;

/**
 * Refuses paths and query parameters that carry control characters (NUL above all, which
 * PostgreSQL cannot store): a clear 400 instead of a database error later.
 */
public final class InputGuard {


    private InputGuard() {
    }

    public static void handle(RoutingContext ctx) {
        if (hasControl(ctx.normalizedPath()) || hasEncodedControl(ctx.request().path())) {
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

    /**
     * Whether the raw path holds a percent-encoded C0 control character ({@code %[01][0-9A-Fa-f]}),
     * which path parameters would decode; a scan rather than a regular expression, per request.
     */
    static boolean hasEncodedControl(String path) {
        if (path == null) {
            return false;
        }
        for (int i = path.indexOf('%'); i >= 0 && i + 2 < path.length(); i = path.indexOf('%', i + 1)) {
            char high = path.charAt(i + 1);
            char low = path.charAt(i + 2);
            if ((high == '0' || high == '1') && Character.digit(low, 16) >= 0 && low < 0x80) {
                return true;
            }
        }
        return false;
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
