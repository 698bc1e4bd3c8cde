package com.modelmarket.marketplace.http;

import io.netty.handler.codec.DecoderException;
import io.vertx.core.Handler;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.impl.RoutingContextInternal;

/**
 * Vert.x Web's {@code BodyHandler} (without file uploads) for bodies that come in one chunk: the
 * chunk the HTTP server delivered (already its own heap copy of the socket's bytes) becomes the
 * body as it is, where {@code BodyHandler} appends every chunk into a buffer of its own — a second
 * copy of each small inference request, and a regrowth past 1 KB. A body of several chunks is
 * gathered as before. Everything else is {@code BodyHandler}'s, in its order: a reroute passes, no
 * length and no chunks pass with no body, a declared length over the limit is 413 at once,
 * {@code Expect: 100-continue} is answered (any other expectation 417), a body over the limit
 * while read is 413, a codec error fails the request with 400. Form and multipart bodies, which
 * {@code BodyHandler} decodes, go to it.
 */
public final class SmallBodyHandler implements Handler<RoutingContext> {

    private final long bodyLimit;
    private final BodyHandler forms;

    /** {@code bodyLimit}: bytes, -1 for none (as {@code BodyHandler.setBodyLimit}). */
    public SmallBodyHandler(long bodyLimit) {
        this.bodyLimit = bodyLimit;
        this.forms = BodyHandler.create(false).setBodyLimit(bodyLimit);
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
        if (type != null && (startsWithIgnoreCase(type, "multipart/form-data")
                || startsWithIgnoreCase(type, "application/x-www-form-urlencoded"))) {
            forms.handle(ctx);
            return;
        }
        RoutingContextInternal internal = (RoutingContextInternal) ctx;
        if (internal.seenHandler(RoutingContextInternal.BODY_HANDLER)) {
            ctx.next();
            return;
        }
        internal.visitHandler(RoutingContextInternal.BODY_HANDLER);
        long contentLength = contentLength(request);
        boolean chunked = request.version() == HttpVersion.HTTP_2 || request.headers().contains(HttpHeaders.TRANSFER_ENCODING);
        if (!chunked && contentLength == -1) {
            ctx.next();
            return;
        }
        if (bodyLimit != -1 && contentLength != -1 && contentLength > bodyLimit) {
            ctx.fail(413);
            return;
        }
        String expect = request.getHeader(HttpHeaders.EXPECT);
        if (expect != null) {
            if (!"100-continue".equalsIgnoreCase(expect)) {
                ctx.fail(417);
                return;
            }
            if (request.version() != HttpVersion.HTTP_1_0) {
                ctx.response().writeContinue();
            }
        }
        if (request.isEnded()) {
            ctx.fail(new VertxException("BodyHandler invoked after the request has ended. It should be the first handler invoked. "
                    + "Otherwise, you must pause the request after it's received.", true));
            return;
        }
        Reader reader = new Reader(internal);
        request.handler(reader);
        request.endHandler(reader::end);
        request.exceptionHandler(failure -> {
            int status = 200; // as BodyHandler: the failure's own status, except a codec error's 400
            Throwable cause = failure;
            if (failure instanceof DecoderException) {
                status = 400;
                if (failure.getCause() != null) {
                    cause = failure.getCause();
                }
            }
            ctx.fail(status, cause);
        });
        request.resume();
    }

    /** The body's chunks: the first kept as it is, gathered only when a second one comes. */
    private final class Reader implements Handler<Buffer> {
        private final RoutingContextInternal ctx;
        private Buffer body;
        private boolean gathered;
        private long size;
        private boolean failed;

        Reader(RoutingContextInternal ctx) {
            this.ctx = ctx;
        }

        @Override
        public void handle(Buffer chunk) {
            if (failed) {
                return;
            }
            size += chunk.length();
            if (bodyLimit != -1 && size > bodyLimit) {
                failed = true;
                ctx.cancelAndCleanupFileUploads();
                ctx.fail(413);
            } else if (body == null) {
                body = chunk;
            } else {
                if (!gathered) {
                    body = Buffer.buffer((int) Math.min(2 * size, bodyLimit == -1 ? Integer.MAX_VALUE : bodyLimit)).appendBuffer(body);
                    gathered = true;
                }
                body.appendBuffer(chunk);
            }
        }

        void end(Void ended) {
            if (failed || ctx.failed()) {
                ctx.cancelAndCleanupFileUploads();
                return;
            }
            ctx.setBody(body);
            body = null;
            ctx.next();
        }
    }

    private static long contentLength(HttpServerRequest request) {
        String value = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (value == null || value.isEmpty()) {
            return -1;
        }
        try {
            long n = Long.parseLong(value);
            return n < 0 ? -1 : n;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static boolean startsWithIgnoreCase(String s, String prefix) {
        return s.regionMatches(true, 0, prefix, 0, prefix.length());
    }
}
