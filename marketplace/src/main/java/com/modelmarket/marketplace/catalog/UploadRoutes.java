package com.modelmarket.marketplace.catalog;

import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.errors.PayloadTooLargeException;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.http.Responses;
import com.modelmarket.serving.ModelRejectedException;
import com.modelmarket.serving.store.ModelStore;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /api/v1/uploads}: a raw body (a TorchScript file or a bundle zip) streamed into the
 * content-addressed store, never held in memory, refused beyond the size cap. A plain streamed
 * body lets clients show progress. Mount before the JSON body handler. The bytes are stored once
 * whoever sends them; the upload is recorded as the caller's tenant's, and only that tenant's
 * versions and bundles may name it.
 */
public final class UploadRoutes {

    private final Vertx vertx;
    private final ModelStore store;
    private final CatalogService catalog;
    private final AccessTokenHandler authenticated;
    private final long maxBytes;

    public UploadRoutes(Vertx vertx, ModelStore store, CatalogService catalog, AccessTokenHandler authenticated,
                        long maxBytes) {
        this.vertx = vertx;
        this.store = store;
        this.catalog = catalog;
        this.authenticated = authenticated;
        this.maxBytes = maxBytes;
    }

    public void mount(Router router) {
        router.post("/api/v1/uploads").handler(ctx -> {
            ctx.request().pause(); // nothing is read until the caller is known
            ctx.next();
        }).handler(authenticated).handler(this::upload);
    }

    private void upload(RoutingContext ctx) {
        if (!Principal.of(ctx).role().canPublish()) {
            ctx.fail(new ForbiddenException("Only owners, admins and publishers upload models"));
            return;
        }
        HttpServerRequest request = ctx.request();
        String length = request.getHeader("Content-Length");
        if (length != null && parse(length) > maxBytes) {
            tooLarge(ctx);
            return;
        }
        store.put(vertx, request, maxBytes)
                .compose(artifact -> catalog.recordUpload(Principal.of(ctx), artifact))
                .onSuccess(artifact -> Responses.json(ctx, 201, new JsonObject()
                        .put("sha256", artifact.sha256()).put("sizeBytes", artifact.sizeBytes())))
                .onFailure(err -> {
                    if (err instanceof ModelRejectedException rejected && rejected.check() == ModelRejectedException.Check.SIZE) {
                        tooLarge(ctx);
                    } else {
                        ctx.fail(err);
                    }
                });
    }

    private void tooLarge(RoutingContext ctx) {
        ctx.response().putHeader("Connection", "close");
        ctx.fail(new PayloadTooLargeException("Uploads are limited to " + maxBytes + " bytes", maxBytes));
    }

    private static long parse(String length) {
        try {
            return Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
