package com.modelmarket.marketplace.http;

import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What a connection may hold of the server: a bound on open connections per client address, a
 * deadline for each request's headers, a deadline for reading its body, and a clean end for a
 * request refused before its body was read. The idle timeout itself is the server's own
 * ({@code HttpServerOptions.setIdleTimeout}): it closes a connection that sends nothing, while
 * these deadlines also stop one that trickles a byte at a time.
 * <ul>
 *   <li>A new connection must deliver its first request's headers within {@code headerTimeout};
 *   after an answer, a kept-alive connection must deliver the next one's within
 *   {@code idleTimeout}. Otherwise it is closed (nothing can be answered before a request).</li>
 *   <li>A connection beyond {@code maxPerAddress} open ones from its address gets a 429
 *   problem+json with {@code Connection: close} to its first request, and is closed.</li>
 *   <li>A body not read completely within {@code bodyTimeout} of its headers (uploads:
 *   {@code uploadTimeout}) gets a 408 problem+json, and the connection is closed.</li>
 * </ul>
 * One instance per HTTP verticle: its timers and connection map live on that verticle's event
 * loop. The per-address counts are shared by all instances of a server through a Vert.x local map.
 */
final class ConnectionGuard {

    /** The limits, from configuration. Zero turns a limit off. */
    record Limits(Duration headerTimeout, Duration idleTimeout, Duration bodyTimeout, Duration uploadTimeout,
                  int maxPerAddress) {
    }

    /** How long a refused request's unread body is still read and dropped before the connection closes. */
    static final Duration LINGER = Duration.ofSeconds(2);
    private static final String OVER_LIMIT = "over-limit";

    private final Vertx vertx;
    private final Limits limits;
    private LocalMap<String, Integer> open;
    private String server;
    /** The header deadline of each open connection. */
    private final Map<HttpConnection, Deadline> deadlines = new HashMap<>();
    private final Map<HttpConnection, String> refused = new HashMap<>();

    ConnectionGuard(Vertx vertx, Limits limits) {
        this.vertx = vertx;
        this.limits = limits;
    }

    /** Call once the server listens: the per-address counts are kept per listening port. */
    void listening(int port) {
        this.server = Integer.toString(port);
        this.open = vertx.sharedData().getLocalMap("modelmarket.http.connections");
    }

    void onConnection(HttpConnection connection) {
        String address = key(connection);
        LocalMap<String, Integer> counts = open; // null only for a connection accepted before listen() completed
        int count = counts == null ? 1 : counts.merge(address, 1, Integer::sum);
        connection.closeHandler(v -> {
            if (counts != null) {
                counts.compute(address, (k, n) -> n == null || n <= 1 ? null : n - 1);
            }
            forget(connection);
            refused.remove(connection);
        });
        if (limits.maxPerAddress() > 0 && count > limits.maxPerAddress()) {
            refused.put(connection, OVER_LIMIT);
        }
        arm(connection, limits.headerTimeout());
    }

    /**
     * The request handler's first step: the header deadline is met. False when the request was
     * answered here (its connection is one too many).
     */
    boolean onRequest(HttpServerRequest request) {
        HttpConnection connection = request.connection();
        cancel(connection);
        if (refused.containsKey(connection)) {
            send(request, new Problem(429, "too-many-connections", "Too many connections",
                    "This address has " + limits.maxPerAddress() + " connections open already; reuse them",
                    List.of(), Map.of("Retry-After", "1")));
            return false;
        }
        return true;
    }

    /**
     * The route handler: the keep-alive deadline after the answer, and the body's read deadline.
     * The body's deadline is the connection's one deadline while the request is read (the header
     * deadline was met, the keep-alive one starts with the answer), kept by the same timer: a
     * timer set and cancelled for every request with a body cost a lambda, a timer and its queue
     * entry each time.
     */
    void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        HttpConnection connection = request.connection();
        Duration bodyLimit = ctx.request().path().equals("/api/v1/uploads") ? limits.uploadTimeout() : limits.bodyTimeout();
        if (hasBody(request) && !request.isEnded() && bodyLimit.toMillis() > 0) {
            Deadline d = deadlines.computeIfAbsent(connection, c -> new Deadline());
            d.body = ctx;
            d.bodyLimit = bodyLimit;
            set(connection, d, bodyLimit);
        }
        ctx.addEndHandler(ended -> arm(connection, limits.idleTimeout())); // the body's deadline ends with the answer
        ctx.next();
    }

    /** The body's deadline passed: answered 408 unless it was read meanwhile (then nothing), or cut off if answered already. */
    private static void bodyTimedOut(RoutingContext ctx, HttpConnection connection, Duration bodyLimit) {
        if (ctx.request().isEnded()) {
            return;
        }
        if (ctx.response().headWritten()) {
            connection.close();
        } else { // answered, then the connection closes (Problems.send: unread body)
            Problems.send(ctx, new Problem(408, "request-timeout", "Request timeout",
                    "The request body was not received within " + bodyLimit.toSeconds() + " seconds"));
        }
    }

    /**
     * A connection's deadline, kept by one timer that re-arms itself while the deadline moves on:
     * a kept-alive connection's every answer moves it, and setting and cancelling a timer per
     * request was a tenth of a light request's work on the event loop. The connection still closes
     * (or its request is answered 408) when its deadline passes, as before.
     */
    private static final class Deadline {
        /** {@link System#nanoTime()} by which the next request's headers (or the body) must have come; 0 for none. */
        long at;
        /** While a request's body is read: that request, and its body's limit; null when {@link #at} is a header deadline. */
        RoutingContext body;
        Duration bodyLimit;
        /** The pending timer, -1 for none, and when it fires. */
        long timer = -1;
        long timerAt;
    }

    private void arm(HttpConnection connection, Duration limit) {
        if (limit.toMillis() <= 0) {
            cancel(connection);
            return;
        }
        Deadline d = deadlines.computeIfAbsent(connection, c -> new Deadline());
        d.body = null;
        set(connection, d, limit);
    }

    /** Moves the connection's deadline to {@code limit} from now, re-using a pending timer that fires first. */
    private void set(HttpConnection connection, Deadline d, Duration limit) {
        d.at = nonZero(System.nanoTime() + limit.toNanos());
        if (d.timer != -1) {
            if (d.timerAt - d.at <= 0) {
                return; // the pending timer fires first and re-arms for the rest
            }
            vertx.cancelTimer(d.timer);
        }
        schedule(connection, d, limit.toMillis());
    }

    private void schedule(HttpConnection connection, Deadline d, long millis) {
        d.timerAt = System.nanoTime() + millis * 1_000_000;
        d.timer = vertx.setTimer(millis, id -> fire(connection, d));
    }

    private void fire(HttpConnection connection, Deadline d) {
        d.timer = -1;
        if (d.at == 0 || deadlines.get(connection) != d) {
            return; // no deadline now (a request is in progress), or the connection is gone
        }
        long left = d.at - System.nanoTime();
        if (left > 0) {
            schedule(connection, d, (left + 999_999) / 1_000_000);
            return;
        }
        if (d.body != null) {
            RoutingContext ctx = d.body;
            d.body = null;
            d.at = 0; // the keep-alive deadline follows the answer, as for any request
            bodyTimedOut(ctx, connection, d.bodyLimit);
            return;
        }
        deadlines.remove(connection);
        connection.close();
    }

    /** No deadline until the next {@link #arm}; a pending timer stays and, finding none, does nothing. */
    private void cancel(HttpConnection connection) {
        Deadline d = deadlines.get(connection);
        if (d != null) {
            d.at = 0;
            d.body = null;
        }
    }

    /** The connection closed: its timer goes too. */
    private void forget(HttpConnection connection) {
        Deadline d = deadlines.remove(connection);
        if (d != null && d.timer != -1) {
            vertx.cancelTimer(d.timer);
        }
    }

    private static long nonZero(long nanos) {
        return nanos == 0 ? 1 : nanos;
    }

    private String key(HttpConnection connection) {
        return server + "|" + (connection.remoteAddress() == null ? "?" : connection.remoteAddress().hostAddress());
    }

    /** Whether the request announced a body (a length above zero, or chunks). */
    static boolean hasBody(HttpServerRequest request) {
        String length = request.getHeader("Content-Length");
        return request.getHeader("Transfer-Encoding") != null || (length != null && !"0".equals(length.trim()));
    }

    /** Whether an answer now leaves part of the request's body unread on the connection. */
    static boolean unreadBody(HttpServerRequest request) {
        return hasBody(request) && !request.isEnded();
    }

    /**
     * Ends a connection whose request was answered before its body was read (401 on an upload,
     * 413, 415, 408): the answer said {@code Connection: close}; the rest of the body is read and
     * dropped for at most {@link #LINGER} (closing with unread data would reset the connection and
     * could cost the client the answer), then the connection closes. Without this the paused
     * request held the connection and the client hung until its own timeout.
     */
    static void closeUnread(HttpServerRequest request) {
        HttpConnection connection = request.connection();
        Vertx vertx = Vertx.currentContext() == null ? null : Vertx.currentContext().owner();
        try {
            request.handler(chunk -> { })
                    .exceptionHandler(err -> connection.close())
                    .endHandler(v -> connection.close());
            request.resume();
        } catch (IllegalStateException alreadyRead) {
            connection.close();
            return;
        }
        if (vertx != null) {
            vertx.setTimer(LINGER.toMillis(), id -> connection.close());
        } else {
            connection.close();
        }
    }

    /**
     * The answer to a request the HTTP codec could not parse: a bad request line or header (400),
     * a request line over the limit (414), headers over the limit (431) — as problem+json, then
     * the connection closes (what follows on it cannot be framed).
     */
    static void invalidRequest(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        Problem problem;
        if (cause instanceof TooLongHttpLineException) {
            problem = Problems.forStatus(414);
        } else if (cause instanceof TooLongHttpHeaderException) {
            problem = Problems.forStatus(431);
        } else {
            problem = Problem.badRequest("The request could not be parsed as HTTP/1.1");
        }
        send(request, problem);
    }

    /** Writes {@code problem} outside the router (no routing context), then closes the connection. */
    private static void send(HttpServerRequest request, Problem problem) {
        HttpServerResponse response = request.response();
        String requestId = UUID.randomUUID().toString();
        JsonObject body = problem.toProblem().put("requestId", requestId);
        problem.headers().forEach(response::putHeader);
        response.setStatusCode(problem.status())
                .putHeader("Content-Type", Problems.CONTENT_TYPE)
                .putHeader(RequestIds.HEADER, requestId)
                .putHeader("Connection", "close")
                .end(body.encode())
                .onComplete(done -> request.connection().close());
    }
}
