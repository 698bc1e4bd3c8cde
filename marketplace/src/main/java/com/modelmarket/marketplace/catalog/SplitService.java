package com.modelmarket.marketplace.catalog;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.ConflictException;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.errors.NotFoundException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Canary splits of an alias: start (or change) one, promote it (the alias moves to the canary and
 * the split ends, in one transaction), roll it back (the split ends; the alias never moved). Only
 * the publisher sees or changes a split (404 for anyone else); the inference path reads it through
 * {@link #route} as it reads aliases. Every change moves {@link CatalogChanges}, so this node's
 * resolved targets drop at once.
 */
public final class SplitService {

    private final Pool pool;
    private final CatalogRepository catalog;
    private final SplitRepository splits;
    private final AuditLog audit;
    private final CatalogChanges changes;
    private final Gatekeeper gates;

    SplitService(Pool pool, CatalogRepository catalog, SplitRepository splits, AuditLog audit, CatalogChanges changes,
                 Gatekeeper gates) {
        this.pool = pool;
        this.catalog = catalog;
        this.splits = splits;
        this.audit = audit;
        this.changes = changes;
        this.gates = gates;
    }

    /** What a publisher asks for: {@code percent} of the alias' calls to {@code version}. */
    public record SplitRequest(String version, int percent, AliasSplit.Stickiness stickiness, Optional<GateOverride> override) {
        public SplitRequest {
            if (percent < 1 || percent > 99) {
                throw new InvalidFieldException("/percent", "must be from 1 to 99 (the canary's share of the alias' calls)");
            }
        }
    }

    /** The publisher's split of {@code alias}; 404 when the model is not the caller's or the alias has none. */
    public Future<AliasSplit> get(Actor actor, String idOrSlug, String alias) {
        UUID tenant = actor.principal().tenantId();
        return TenantScope.tenant(pool, tenant, c -> owned(c, tenant, idOrSlug)
                .compose(model -> splits.find(c, model.id(), alias)))
                .compose(found -> found.map(Future::succeededFuture)
                        .orElseGet(() -> Future.failedFuture(new NotFoundException("Split of alias '" + alias + "'"))));
    }

    /** The model of the caller's a split belongs to (for the console's figures), or 404. */
    public Future<CatalogModel> ownModel(Actor actor, String idOrSlug) {
        UUID tenant = actor.principal().tenantId();
        return TenantScope.tenant(pool, tenant, c -> owned(c, tenant, idOrSlug));
    }

    /**
     * Starts a split, or changes its share or stickiness: the canary must serve and differ from the
     * alias' version, and passes the schema gate (a split sends real calls to it).
     */
    public Future<AliasSplit> start(Actor actor, String idOrSlug, String alias, SplitRequest in) {
        requirePublisher(actor);
        UUID tenant = actor.principal().tenantId();
        return TenantScope.tenant(pool, tenant, c -> owned(c, tenant, idOrSlug).compose(model -> catalog.resolve(c, model.id(), alias)
                .compose(stable -> catalog.findVersion(c, model.id(), in.version(), false).map(canary -> {
                    ModelVersion s = stable.orElseThrow(() -> new ConflictException(
                            "The alias '" + alias + "' points at no version; point it at the stable version first"));
                    ModelVersion k = canary.orElseThrow(() -> new InvalidFieldException("/version", "no version " + in.version()));
                    if (!k.serves()) {
                        throw new ConflictException("A split can send calls only to a published or deprecated version");
                    }
                    if (k.id().equals(s.id())) {
                        throw new ConflictException("The alias '" + alias + "' already points at " + k.version());
                    }
                    return new Sides(model, s, k);
                }))))
                .compose(sides -> gates.pass(sides.model(), sides.stable(), sides.canary(), PublishGuard.Scope.SCHEMA_ONLY, in.override())
                        .compose(verdict -> changes.inTransaction(pool, tenant, tx -> splits.upsert(tx, tenant, sides.model().id(), alias,
                                        sides.canary().id(), in.percent(), in.stickiness(), actor.principal().userId())
                                .compose(v -> TenantScope.enterSystem(tx))
                                .compose(v -> splits.rebalance(tx, sides.model().id(), alias))
                                .compose(v -> TenantScope.enter(tx, tenant))
                                .compose(v -> gates.recordOverride(tx, actor, sides.model(), "split", sides.stable(), sides.canary(),
                                        verdict, in.override()))
                                .compose(v -> audit.record(tx, tenant, actor, "split.start", "model", sides.model().id(), new JsonObject()
                                        .put("alias", alias).put("stable", sides.stable().version()).put("canary", sides.canary().version())
                                        .put("percent", in.percent()).put("stickiness", in.stickiness().wire())))
                                .compose(v -> splits.find(tx, sides.model().id(), alias)).map(Optional::orElseThrow))));
    }

    /** Moves the alias to the canary and ends the split, in one transaction, once the canary passes every gate. */
    public Future<Map<String, String>> promote(Actor actor, String idOrSlug, String alias, Optional<GateOverride> override) {
        requirePublisher(actor);
        UUID tenant = actor.principal().tenantId();
        return TenantScope.tenant(pool, tenant, c -> owned(c, tenant, idOrSlug).compose(model -> splits.find(c, model.id(), alias)
                .compose(found -> {
                    AliasSplit split = found.orElseThrow(() -> new NotFoundException("Split of alias '" + alias + "'"));
                    return catalog.findVersion(c, model.id(), split.stableVersion(), false).compose(stable ->
                            catalog.findVersion(c, model.id(), split.canaryVersion(), false)
                                    .map(canary -> new Sides(model, stable.orElseThrow(), canary.orElseThrow())));
                })))
                .compose(sides -> gates.pass(sides.model(), sides.stable(), sides.canary(), PublishGuard.Scope.ALL, override)
                        .compose(verdict -> changes.inTransaction(pool, tenant, tx -> splits.find(tx, sides.model().id(), alias)
                                .compose(now -> {
                                    // the split changed while the gates ran: promote what was checked, or nothing
                                    if (now.isEmpty() || !now.get().canaryVersionId().equals(sides.canary().id())
                                            || !now.get().stableVersionId().equals(sides.stable().id())) {
                                        return Future.failedFuture(new ConflictException("The split changed meanwhile; look again"));
                                    }
                                    return catalog.setAlias(tx, sides.model().id(), alias, sides.canary().id())
                                            .compose(v -> splits.delete(tx, sides.model().id(), alias))
                                            .compose(v -> gates.recordOverride(tx, actor, sides.model(), "promote", sides.stable(),
                                                    sides.canary(), verdict, override))
                                            .compose(v -> audit.record(tx, tenant, actor, "split.promote", "model", sides.model().id(),
                                                    new JsonObject().put("alias", alias).put("from", sides.stable().version())
                                                            .put("to", sides.canary().version())))
                                            .compose(v -> catalog.aliases(tx, sides.model().id()));
                                }))));
    }

    /** Ends the split: every call of the alias goes to its own (stable) version again. */
    public Future<Void> rollBack(Actor actor, String idOrSlug, String alias) {
        requirePublisher(actor);
        UUID tenant = actor.principal().tenantId();
        return changes.inTransaction(pool, tenant, tx -> owned(tx, tenant, idOrSlug).compose(model -> splits.find(tx, model.id(), alias)
                .compose(found -> {
                    AliasSplit split = found.orElseThrow(() -> new NotFoundException("Split of alias '" + alias + "'"));
                    return splits.delete(tx, model.id(), alias).compose(v -> audit.record(tx, tenant, actor, "split.rollback", "model",
                            model.id(), new JsonObject().put("alias", alias).put("stable", split.stableVersion())
                                    .put("canary", split.canaryVersion())));
                })));
    }

    /** The split of {@code alias} as the inference path reads it: any caller who may see the model. */
    public Future<Optional<AliasSplit>> route(UUID callerTenant, UUID modelId, String alias) {
        return TenantScope.tenantOrVisitor(pool, callerTenant, c -> splits.find(c, modelId, alias));
    }

    /**
     * A tenant-sticky split's side for the caller (true: the canary), assigned on its first call so
     * that the tenants are divided as close to the share as whole tenants allow, and the same on
     * every node afterwards; empty if the split has ended.
     */
    public Future<Optional<Boolean>> side(UUID callerTenant, UUID modelId, String alias) {
        return TenantScope.system(pool, c -> splits.side(c, modelId, alias, callerTenant));
    }

    private record Sides(CatalogModel model, ModelVersion stable, ModelVersion canary) {
    }

    private Future<CatalogModel> owned(io.vertx.sqlclient.SqlClient c, UUID tenant, String idOrSlug) {
        return catalog.findOwned(c, tenant, idOrSlug, false).compose(found -> found.map(Future::succeededFuture)
                .orElseGet(() -> Future.failedFuture(new NotFoundException("Model"))));
    }

    private static void requirePublisher(Actor actor) {
        if (!actor.principal().role().canPublish()) {
            throw new ForbiddenException("Only owners, admins and publishers change an alias' split");
        }
    }
}
