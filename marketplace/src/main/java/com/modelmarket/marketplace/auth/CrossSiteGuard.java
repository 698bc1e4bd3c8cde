package com.modelmarket.marketplace.auth;

import com.modelmarket.marketplace.errors.ForbiddenException;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.util.Locale;

/**
 * Refuses a request that is authenticated by the session cookie but comes from another site
 * (cross-site request forgery), instead of relying on {@code SameSite} alone: browsers say where a
 * request comes from in {@code Sec-Fetch-Site} and {@code Origin}. With the cookie present, either
 * header naming anything but this origin (same-site subdomains included; {@code Origin: null}
 * too) answers 403. Requests without the cookie, and programs that send no such headers, pass.
 */
public final class CrossSiteGuard {

    private CrossSiteGuard() {
    }

    public static void handle(RoutingContext ctx) {
        if (ctx.request().getCookie(AuthRoutes.REFRESH_COOKIE) != null && crossSite(ctx)) {
            ctx.fail(new ForbiddenException(ForbiddenException.Reason.CROSS_SITE_REQUEST,
                    "A cookie-authenticated request must come from this site (Origin / Sec-Fetch-Site say otherwise)"));
            return;
        }
        ctx.next();
    }

    static boolean crossSite(RoutingContext ctx) {
        String fetchSite = ctx.request().getHeader("Sec-Fetch-Site");
        if (fetchSite != null) {
            String site = fetchSite.trim().toLowerCase(Locale.ROOT);
            if (!site.equals("same-origin") && !site.equals("none")) {
                return true;
            }
        }
        String origin = ctx.request().getHeader("Origin");
        return origin != null && !sameOrigin(origin, ctx.request().getHeader("Host"));
    }

    /** Whether {@code origin} names the host (and port) this request was sent to. */
    static boolean sameOrigin(String origin, String host) {
        if (host == null) {
            return false;
        }
        try {
            URI uri = new URI(origin.trim());
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (uri.getHost() == null || !(scheme.equals("http") || scheme.equals("https"))) {
                return false; // "null" (opaque origins, sandboxed frames) and anything odd
            }
            int defaultPort = scheme.equals("https") ? 443 : 80;
            String originAuthority = uri.getHost().toLowerCase(Locale.ROOT) + ":" + (uri.getPort() == -1 ? defaultPort : uri.getPort());
            String h = host.trim().toLowerCase(Locale.ROOT);
            int colon = h.lastIndexOf(':');
            String hostAuthority = colon > h.lastIndexOf(']') && colon >= 0 ? h : h + ":" + defaultPort;
            return originAuthority.equals(hostAuthority);
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }
}
