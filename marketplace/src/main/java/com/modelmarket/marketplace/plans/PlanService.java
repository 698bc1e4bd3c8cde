package com.modelmarket.marketplace.plans;

import com.modelmarket.billing.PlanType;
import com.modelmarket.billing.TrainingPrice;
import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.catalog.CatalogChanges;
import com.modelmarket.marketplace.catalog.CatalogService;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.errors.NotFoundException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** Price plans: publishers define and archive them; anyone who sees a model sees its live plans. */
public final class PlanService {

    private final Pool pool;
    private final PlanRepository repository = new PlanRepository();
    private final CatalogService catalog;
    private final AuditLog audit;
    private final CatalogChanges changes;

    public PlanService(Pool pool, CatalogService catalog, AuditLog audit, CatalogChanges changes) {
        this.changes = changes;
        this.pool = pool;
        this.catalog = catalog;
        this.audit = audit;
    }

    /** A plan as a publisher defines it. */
    public record PlanInput(String name, PlanType type, String currency, long monthlyFeeMinor, long includedCalls,
                            long pricePer1000Minor, int rateLimitPerMinute, TrainingPrice training) {

        /** A plan that prices calls only. */
        public PlanInput(String name, PlanType type, String currency, long monthlyFeeMinor, long includedCalls,
                         long pricePer1000Minor, int rateLimitPerMinute) {
            this(name, type, currency, monthlyFeeMinor, includedCalls, pricePer1000Minor, rateLimitPerMinute, TrainingPrice.NONE);
        }

        public PlanInput {
            java.util.Objects.requireNonNull(training, "training");
            if (type == null) {
                throw new InvalidFieldException("/type", "must be one of " + Plan.TYPES);
            }
            if (!currency.matches("[A-Z]{3}")) {
                throw new InvalidFieldException("/currency", "must be an ISO 4217 code such as EUR");
            }
            if (monthlyFeeMinor < 0 || includedCalls < 0 || pricePer1000Minor < 0) {
                throw new InvalidFieldException("/", "amounts and call counts must not be negative");
            }
            if (rateLimitPerMinute < 1 || rateLimitPerMinute > 1_000_000) {
                throw new InvalidFieldException("/rateLimitPerMinute", "must be between 1 and 1000000");
            }
            if (type == PlanType.FREE && (training.perJobMinor() != 0 || training.perMinuteMinor() != 0)) {
                throw new InvalidFieldException("/trainingPerMinuteMinor", "a free plan charges nothing for training; "
                        + "cap it with includedTrainingMinutes");
            }
            if (type == PlanType.PAY_AS_YOU_GO && training.includedMinutes() != 0) {
                throw new InvalidFieldException("/includedTrainingMinutes", "a pay-as-you-go plan includes no training minutes");
            }
            switch (type) {
                case FREE -> {
                    if (monthlyFeeMinor != 0 || pricePer1000Minor != 0 || includedCalls < 1) {
                        throw new InvalidFieldException("/includedCalls", "a free plan has a monthly allowance (includedCalls > 0) and no prices");
                    }
                }
                case PAY_AS_YOU_GO -> {
                    boolean pricesTraining = training.perJobMinor() > 0 || training.perMinuteMinor() > 0;
                    if (monthlyFeeMinor != 0 || includedCalls != 0 || (pricePer1000Minor < 1 && !pricesTraining)) {
                        throw new InvalidFieldException("/pricePer1000Minor", "a pay-as-you-go plan has only a price per 1,000 calls "
                                + "(> 0), or for an algorithm, training prices (trainingPerJobMinor, trainingPerMinuteMinor)");
                    }
                }
                case MONTHLY -> {
                    if (monthlyFeeMinor < 1) {
                        throw new InvalidFieldException("/monthlyFeeMinor", "a monthly plan has a flat fee (> 0)");
                    }
                }
            }
        }

        /** The type named on the wire, parsed at the edge; null (refused by the constructor) if it names none. */
        public static PlanType type(String wire) {
            return Plan.parseType(wire).orElse(null);
        }
    }

    public Future<Plan> create(Actor actor, String modelIdOrSlug, PlanInput in) {
        Principal p = actor.principal();
        if (!p.role().canPublish()) {
            throw new ForbiddenException("Only owners, admins and publishers define plans");
        }
        return catalog.visible(p.tenantId(), modelIdOrSlug).compose(model -> {
            if (!model.tenantId().equals(p.tenantId())) {
                return Future.failedFuture(new NotFoundException("Model"));
            }
            return changes.inTransaction(pool, p.tenantId(), tx -> repository.insert(tx, model.id(), p.tenantId(), in)
                    .compose(plan -> audit.record(tx, p.tenantId(), actor, "plan.create", "plan", plan.id(), plan.toJson())
                            .map(v -> plan)));
        });
    }

    public Future<Plan> archive(Actor actor, String modelIdOrSlug, UUID planId) {
        Principal p = actor.principal();
        if (!p.role().canPublish()) {
            throw new ForbiddenException("Only owners, admins and publishers change plans");
        }
        return changes.inTransaction(pool, p.tenantId(), tx -> repository.archive(tx, p.tenantId(), planId, modelIdOrSlug)
                .compose(archived -> {
                    if (archived.isEmpty()) {
                        return Future.failedFuture(new NotFoundException("Plan"));
                    }
                    Plan plan = archived.get();
                    return audit.record(tx, p.tenantId(), actor, "plan.archive", "plan", plan.id(), new JsonObject())
                            .map(v -> plan);
                }));
    }

    /** The live plans of a model the caller may see. */
    public Future<List<Plan>> list(Optional<Principal> caller, String modelIdOrSlug) {
        UUID tenant = caller.map(Principal::tenantId).orElse(null);
        return catalog.visible(tenant, modelIdOrSlug)
                .compose(model -> TenantScope.tenantOrVisitor(pool, tenant, c -> repository.live(c, model.id())));
    }

    /** A live plan of a model (for subscribing). */
    public Future<Optional<Plan>> livePlan(SqlClient client, UUID modelId, UUID planId) {
        return repository.livePlan(client, modelId, planId);
    }
}
