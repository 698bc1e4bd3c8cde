package com.modelmarket.marketplace.members;

import com.modelmarket.marketplace.tenants.Member;
import com.modelmarket.marketplace.tenants.TenantRepository;
import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.auth.AccessTokenHandler;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.tenants.Role;
import com.modelmarket.marketplace.http.JsonBody;
import com.modelmarket.marketplace.http.Responses;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** {@code /api/v1/tenant} (read, delete) and {@code /api/v1/members}: the caller's organisation and its people. */
public final class MemberRoutes {

    private final MemberService members;
    private final TenantRepository tenants;
    private final AccessTokenHandler authenticated;

    public MemberRoutes(MemberService members, TenantRepository tenants, AccessTokenHandler authenticated) {
        this.members = members;
        this.tenants = tenants;
        this.authenticated = authenticated;
    }

    public void mount(Router router) {
        router.get("/api/v1/tenant").handler(authenticated).handler(this::tenant);
        router.delete("/api/v1/tenant").handler(authenticated).handler(this::deleteTenant);
        router.get("/api/v1/members").handler(authenticated).handler(this::list);
        router.post("/api/v1/members").handler(authenticated).handler(this::add);
        router.get("/api/v1/members/:id").handler(authenticated).handler(this::get);
        router.patch("/api/v1/members/:id").handler(authenticated).handler(this::changeRole);
        router.delete("/api/v1/members/:id").handler(authenticated).handler(this::remove);
    }

    private void tenant(RoutingContext ctx) {
        tenants.findTenant(Principal.of(ctx).tenantId())
                .onSuccess(t -> Responses.json(ctx, 200, t.orElseThrow().toJson()))
                .onFailure(ctx::fail);
    }

    private void deleteTenant(RoutingContext ctx) {
        members.deleteTenant(Actor.of(ctx))
                .onSuccess(v -> Responses.noContent(ctx))
                .onFailure(ctx::fail);
    }

    private void list(RoutingContext ctx) {
        members.list(Principal.of(ctx))
                .onSuccess(list -> Responses.items(ctx, new JsonArray(list.stream().map(Member::toJson).toList())))
                .onFailure(ctx::fail);
    }

    private void add(RoutingContext ctx) {
        JsonBody body = JsonBody.of(ctx);
        String email = body.requiredEmail("email");
        String displayName = body.optionalString("displayName", 200).orElse("");
        String password = body.requiredSecret("password", 10, 200);
        Role role = body.requiredEnum("role", Role.class);
        members.add(Principal.of(ctx), email, displayName, password, role)
                .onSuccess(m -> Responses.json(ctx, 201, m.toJson()))
                .onFailure(ctx::fail);
    }

    private void get(RoutingContext ctx) {
        members.get(Principal.of(ctx), Responses.pathId(ctx, "id", "Member"))
                .onSuccess(m -> Responses.json(ctx, 200, m.toJson()))
                .onFailure(ctx::fail);
    }

    private void changeRole(RoutingContext ctx) {
        Role role = JsonBody.of(ctx).requiredEnum("role", Role.class);
        members.changeRole(Principal.of(ctx), Responses.pathId(ctx, "id", "Member"), role)
                .onSuccess(m -> Responses.json(ctx, 200, m.toJson()))
                .onFailure(ctx::fail);
    }

    private void remove(RoutingContext ctx) {
        members.remove(Principal.of(ctx), Responses.pathId(ctx, "id", "Member"))
                .onSuccess(v -> Responses.noContent(ctx))
                .onFailure(ctx::fail);
    }
}
