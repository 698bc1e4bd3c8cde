package com.modelmarket.marketplace.catalog;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/** A read stream of one buffer, so a request goes out chunked, without Content-Length. */
final class OneShotStream implements ReadStream<Buffer> {

    private final Buffer data;
    private Handler<Buffer> handler;
    private Handler<Void> endHandler;
    private boolean paused;
    private boolean sent;

    OneShotStream(byte[] bytes) {
        this.data = Buffer.buffer(bytes);
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> h) {
        return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> h) {
        this.handler = h;
        emit();
        return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
        paused = true;
        return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
        paused = false;
        emit();
        return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
        return resume();
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> h) {
        this.endHandler = h;
        emit();
        return this;
    }

    private void emit() {
        if (!paused && !sent && handler != null && endHandler != null) {
            sent = true;
            handler.handle(data);
            endHandler.handle(null);
        }
    }
}
