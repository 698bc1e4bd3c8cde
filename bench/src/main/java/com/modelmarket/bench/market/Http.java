package com.modelmarket.bench.market;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;

/** Blocking one-off calls for setting a server up and checking answers; the load itself goes through {@link LoadGenerator}. */
final class Http implements AutoCloseable {

    /** An answer: status, headers and the whole body. */
    record Reply(int status, MultiMap headers, Buffer body) {
        JsonObject json() {
            return body.toJsonObject();
        }

        Reply expect(int wanted, String what) {
            if (status != wanted) {
                throw new IllegalStateException(what + ": HTTP " + status + " " + body.toString().substring(0,
                        Math.min(400, body.length())));
            }
            return this;
        }
    }

    static final long TIMEOUT_SECONDS = 180;

    private final HttpClientAgent client;
    private final int port;

    Http(Vertx vertx, int port) {
        this.client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(LoadGenerator.HOST)
                .setDefaultPort(port).setKeepAlive(false));
        this.port = port;
    }

    int port() {
        return port;
    }

    Reply get(String uri, String bearer) {
        return call(HttpMethod.GET, uri, bearer, (String) null, null);
    }

    Reply postJson(String uri, String bearer, JsonObject body) {
        return call(HttpMethod.POST, uri, bearer, "application/json", body == null ? Buffer.buffer() : body.toBuffer());
    }

    Reply call(HttpMethod method, String uri, String bearer, String contentType, Buffer body) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        if (contentType != null) {
            headers.add("Content-Type", contentType);
        }
        return send(method, uri, bearer, headers, body);
    }

    Reply send(HttpMethod method, String uri, String bearer, MultiMap headers, Buffer body) {
        RequestOptions options = new RequestOptions().setMethod(method).setURI(uri).setHeaders(headers)
                .setIdleTimeout(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        if (bearer != null) {
            options.putHeader("Authorization", "Bearer " + bearer);
        }
        Future<Reply> reply = client.request(options)
                .compose(req -> body == null ? req.send() : req.send(body))
                .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), resp.headers(), b)));
        return await(reply, method + " " + uri);
    }

    static <T> T await(Future<T> future, String what) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + ": interrupted", e);
        } catch (Exception e) {
            throw new IllegalStateException(what + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        await(client.close(), "closing an HTTP client");
    }
}
