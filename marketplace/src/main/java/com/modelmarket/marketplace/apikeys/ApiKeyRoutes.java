package com.modelmarket.marketplace.apikeys;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.http.JsonBody;
import com.modelmarket.marketplace.http.Responses;
import com.modelmarket.marketplace.http.StreamedJson;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/** {@code /api/v1/api-keys}: create (secret shown once), list, show, revoke; and a key's self-check. */
public final class ApiKeyRoutes {

    private final ApiKeyService keys;
    private final AccessTokenHandler authenticated;

    public ApiKeyRoutes(ApiKeyService keys, AccessTokenHandler authenticated) {
        this.keys = keys;
        this.authenticated = authenticated;
    }

    public void mount(Router router) {
        router.get("/api/v1/key-info").handler(new ApiKeyHandler(keys, "inference")).handler(this::keyInfo);
        router.post("/api/v1/api-keys").handler(authenticated).handler(this::create);
        router.get("/api/v1/api-keys").handler(authenticated).handler(this::list);
        router.get("/api/v1/api-keys/:id").handler(authenticated).handler(this::get);
        router.delete("/api/v1/api-keys/:id").handler(authenticated).handler(this::revoke);
    }

    private void create(RoutingContext ctx) {
        JsonBody body = JsonBody.of(ctx);
        String name = body.requiredString("name", 100);
        List<String> scopes = body.optionalStringList("scopes", 1, 10, 50).orElse(List.of("inference"));
        keys.create(Actor.of(ctx), name, scopes, body.optionalInstant("expiresAt"))
                .onSuccess(created -> Responses.json(ctx, 201, created.toJson()))
                .onFailure(ctx::fail);
    }

    private void list(RoutingContext ctx) {
        keys.list(Principal.of(ctx))
                .onSuccess(list -> Responses.items(ctx, new JsonArray(list.stream().map(ApiKey::toJson).toList())))
                .onFailure(ctx::fail);
    }

    private void get(RoutingContext ctx) {
        keys.get(Principal.of(ctx), Responses.pathId(ctx, "id", "API key"))
                .onSuccess(key -> Responses.json(ctx, 200, key.toJson()))
                .onFailure(ctx::fail);
    }

    private void revoke(RoutingContext ctx) {
        keys.revoke(Actor.of(ctx), Responses.pathId(ctx, "id", "API key"))
                .onSuccess(key -> Responses.noContent(ctx))
                .onFailure(ctx::fail);
    }

    private void keyInfo(RoutingContext ctx) {
        KeyPrincipal key = KeyPrincipal.of(ctx);
        boolean surrogates = false;
        for (String scope : key.scopes()) {
            surrogates |= StreamedJson.hasSurrogate(scope);
        }
        // streamed: what new JsonObject().put("keyId", ...).put("tenantId", ...).put("scopes", ...) encoded to
        Responses.json(ctx, 200, StreamedJson.asResponse(surrogates, g -> {
            g.writeStartObject();
            g.writeStringField("keyId", key.keyId().toString());
            g.writeStringField("tenantId", key.tenantId().toString());
            g.writeArrayFieldStart("scopes");
            for (String scope : key.scopes()) {
                g.writeString(scope);
            }
            g.writeEndArray();
            g.writeEndObject();
        }));
    }
}
