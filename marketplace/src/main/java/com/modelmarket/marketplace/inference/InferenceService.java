package com.modelmarket.marketplace.inference;

import com.modelmarket.billing.metering.UsageMeter;
import com.modelmarket.billing.metering.UsageOutcome;
import com.modelmarket.billing.metering.UsageRecord;
import com.modelmarket.marketplace.apikeys.KeyPrincipal;
import com.modelmarket.marketplace.catalog.ArtifactValidator;
import com.modelmarket.marketplace.catalog.CatalogChanges;
import com.modelmarket.marketplace.catalog.AliasSplit;
import com.modelmarket.marketplace.catalog.CatalogModel;
import com.modelmarket.marketplace.catalog.VersionState;
import com.modelmarket.marketplace.plans.Plan;
import com.modelmarket.marketplace.catalog.CatalogService;
import com.modelmarket.marketplace.catalog.ModelVersion;
import com.modelmarket.marketplace.util.SingleFlight;
import com.modelmarket.marketplace.errors.QuotaExhaustedException;
import com.modelmarket.marketplace.errors.RateLimitedException;
import com.modelmarket.marketplace.errors.VersionRetiredException;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.marketplace.subscriptions.SubscriptionService;
import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.InferenceFailedException;
import com.modelmarket.serving.InferenceRequest;
import com.modelmarket.serving.InferenceResult;
import com.modelmarket.serving.ModelKey;
import com.modelmarket.serving.PoolConfig;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.store.ModelStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The inference path behind the HTTP API: resolve the model and version the caller may use, check
 * entitlement, rate limit and quota, load the version if this node has not (a cold start), run it,
 * and meter every request that reached the model. Knows nothing of HTTP.
 */
public final class InferenceService {

    /** Requests per minute on one's own models, which have no plan. */
    static final int OWN_MODEL_RATE_LIMIT = 100_000;

    private final CatalogService catalog;
    private final SubscriptionService subscriptions;
    private final ServingEngine engine;
    private final ModelStore store;
    private final RateLimiter rateLimiter;
    private final QuotaTracker quotas;
    private final UsageMeter meter;
    private final TensorCodec.Limits limits;
    private final PoolConfig pool;
    private final boolean metering;
    private final Map<ModelKey, Future<Void>> loading = new ConcurrentHashMap<>();
    private final CatalogChanges changes;
    private final Map<RouteKey, CachedTarget> targets = new ConcurrentHashMap<>();
    private final SingleFlight<String, TargetRoute> lookups = new SingleFlight<>();
    private final SplitTraffic traffic = new SplitTraffic();
    /** Parsed manifests by version id: a version's manifest never changes once the version exists. */
    private final Map<UUID, ModelManifest> manifests = new ConcurrentHashMap<>();
    private static final int MAX_CACHED_MANIFESTS = 1_000;

    /** How long a node may use a resolved target; changes made on this node drop it at once. */
    static final long TARGET_TTL_NANOS = 1_000_000_000L;
    private static final int MAX_CACHED_TARGETS = 10_000;

    private record CachedTarget(TargetRoute route, long generation, long until) {
    }

    /** What a resolution is cached under: a record, so a hit builds no string. */
    private record RouteKey(UUID tenantId, String name, String versionOrAlias, boolean requireEntitlement) {
    }

    /** A tenant's calls of a model, as the rate limiter counts them. */
    private record RateKey(UUID tenantId, UUID modelId) {
    }

    /** Engine keys by version id: built once per version and node, not per call. */
    private final Map<UUID, ModelKey> modelKeys = new ConcurrentHashMap<>();

    public InferenceService(CatalogService catalog, SubscriptionService subscriptions, ServingEngine engine,
                            ModelStore store, RateLimiter rateLimiter, QuotaTracker quotas, UsageMeter meter,
                            TensorCodec.Limits limits, PoolConfig pool, boolean metering, CatalogChanges changes) {
        this.changes = changes;
        this.pool = pool;
        this.metering = metering;
        this.catalog = catalog;
        this.subscriptions = subscriptions;
        this.engine = engine;
        this.store = store;
        this.rateLimiter = rateLimiter;
        this.quotas = quotas;
        this.meter = meter;
        this.limits = limits;
    }

    /** A finished call: what it ran, what came out, and the facts for headers. */
    public record Outcome(InferenceTarget target, TensorCodec.Decoded request, InferenceResult result, boolean coldStart,
                          RateLimiter.Decision rate) {
    }

    /**
     * The model and version a caller of {@code name} gets, if it may see the model (404 otherwise;
     * 410 if retired). Successful resolutions are cached briefly, so the hot path rarely reads the
     * catalog; any catalog, plan or subscription change on this node drops them at once, and other
     * nodes see it within {@link #TARGET_TTL_NANOS}.
     */
    public Future<InferenceTarget> resolve(UUID tenantId, String name, String versionOrAlias, boolean requireEntitlement) {
        return route(tenantId, name, versionOrAlias, requireEntitlement).map(route -> route.pick(tenantId, null));
    }

    /** The live figures of versions in alias splits, on this node. */
    public SplitTraffic traffic() {
        return traffic;
    }

    /**
     * As {@link #resolve}, before a side of an alias split is picked: the cached route. With no
     * split it holds one target and picking costs a null check.
     */
    private Future<TargetRoute> route(UUID tenantId, String name, String versionOrAlias, boolean requireEntitlement) {
        TargetRoute hit = cachedRoute(tenantId, name, versionOrAlias, requireEntitlement);
        if (hit != null) {
            return Future.succeededFuture(hit);
        }
        RouteKey key = new RouteKey(tenantId, name, versionOrAlias, requireEntitlement);
        long generation = changes.current();
        long now = System.nanoTime();
        // One lookup per key at a time: when an entry expires under load, every request for it
        // would otherwise hit the database at once.
        return lookups.run(tenantId + "|" + name + "|" + versionOrAlias + "|" + requireEntitlement + "|" + generation, () -> lookup(tenantId, name, versionOrAlias, requireEntitlement)
                .onSuccess(route -> {
                    if (targets.size() > MAX_CACHED_TARGETS) {
                        targets.clear();
                    }
                    targets.put(key, new CachedTarget(route, generation, now + TARGET_TTL_NANOS));
                }));
    }

    /** The cached route, if it is still good; null otherwise. */
    private TargetRoute cachedRoute(UUID tenantId, String name, String versionOrAlias, boolean requireEntitlement) {
        CachedTarget cached = targets.get(new RouteKey(tenantId, name, versionOrAlias, requireEntitlement));
        return cached != null && cached.generation() == changes.current() && cached.until() - System.nanoTime() > 0
                ? cached.route() : null;
    }

    private Future<TargetRoute> lookup(UUID tenantId, String name, String versionOrAlias, boolean requireEntitlement) {
        return catalog.visible(tenantId, name).compose(model -> {
            if (model.kind() != com.modelmarket.marketplace.catalog.ModelKind.MODEL) {
                return Future.failedFuture(new NotFoundException("Model"));
            }
            boolean own = model.tenantId().equals(tenantId);
            return catalog.resolve(tenantId, model.id(), versionOrAlias).compose(found -> {
                ModelVersion v = found.filter(x -> own || x.state() != VersionState.DRAFT)
                        .orElseThrow(() -> new NotFoundException("Version " + (versionOrAlias == null ? "" : versionOrAlias)));
                if (v.state() == VersionState.RETIRED) {
                    return Future.failedFuture(new VersionRetiredException(model.slug(), v.version()));
                }
                return manifestOf(tenantId, v)
                        .compose(manifest -> entitled(tenantId, model, v, manifest, own, requireEntitlement))
                        .compose(stable -> withSplit(tenantId, stable, versionOrAlias == null ? "latest" : versionOrAlias));
            });
        });
    }

    /**
     * The route of an alias: its own version, and the canary if the alias has a split whose stable
     * side is still that version (a version number never has a split; aliases start with a letter).
     */
    private Future<TargetRoute> withSplit(UUID tenantId, InferenceTarget stable, String alias) {
        if (alias.isEmpty() || !Character.isLetter(alias.charAt(0))) {
            return Future.succeededFuture(TargetRoute.single(stable));
        }
        return catalog.splits().route(tenantId, stable.model().id(), alias).compose(split -> {
            if (split.isEmpty() || !split.get().stableVersionId().equals(stable.version().id())) {
                return Future.succeededFuture(TargetRoute.single(stable));
            }
            return catalog.resolve(tenantId, stable.model().id(), split.get().canaryVersion()).compose(found -> {
                if (found.isEmpty() || !found.get().serves()) {
                    return Future.succeededFuture(TargetRoute.single(stable));
                }
                ModelVersion canary = found.get();
                // a tenant-sticky split assigns the caller's side once, balanced across tenants (a
                // miss of this cache only: one query per tenant and split, not per call)
                Future<Optional<Boolean>> side = split.get().stickiness() == AliasSplit.Stickiness.TENANT
                        ? catalog.splits().side(tenantId, stable.model().id(), alias)
                        : Future.succeededFuture(Optional.empty());
                return side.compose(assigned -> manifestOf(tenantId, canary).map(manifest -> new TargetRoute(stable,
                        new InferenceTarget(stable.model(), canary, manifest, stable.own(), stable.plan(), stable.subscriptionId()),
                        split.get().canaryPercent(), split.get().stickiness(), assigned.orElse(null))));
            });
        });
    }

    /** The target, with the caller's plan and subscription unless it owns the model or needs none. */
    private Future<InferenceTarget> entitled(UUID tenantId, CatalogModel model, ModelVersion v, ModelManifest manifest,
                                             boolean own, boolean requireEntitlement) {
        if (own || !requireEntitlement) {
            return Future.succeededFuture(new InferenceTarget(model, v, manifest, own, Optional.empty(), Optional.empty()));
        }
        return subscriptions.entitlement(tenantId, model.id()).compose(e -> e.isEmpty()
                ? Future.failedFuture(new ForbiddenException("Your organisation does not subscribe to " + model.slug()
                        + ". Pick a plan from GET /api/v1/models/" + model.slug() + "/plans and subscribe with "
                        + "POST /api/v1/subscriptions {\"model\": \"" + model.slug() + "\", \"planId\": ...}")
                        .withHint("model", model.slug()).withHint("plans", "/api/v1/models/" + model.slug() + "/plans"))
                : Future.succeededFuture(new InferenceTarget(model, v, manifest, false,
                        Optional.of(e.get().plan()), Optional.of(e.get().subscriptionId()))));
    }

    /** The version's parsed manifest, read whole (example included) once per version and node. */
    private Future<ModelManifest> manifestOf(UUID tenantId, ModelVersion v) {
        ModelManifest known = manifests.get(v.id());
        if (known != null) {
            return Future.succeededFuture(known);
        }
        return catalog.manifest(tenantId, v.id()).map(json -> {
            ModelManifest parsed = ModelManifest.fromJson(json);
            if (manifests.size() >= MAX_CACHED_MANIFESTS) {
                manifests.clear();
            }
            manifests.put(v.id(), parsed);
            return parsed;
        });
    }

    public Future<Outcome> infer(KeyPrincipal caller, String requestId, String name, String versionOrAlias, InferenceEnvelope body,
                                 io.vertx.core.buffer.Buffer binary) {
        // a cached route (nearly every call) goes on at once, without a future and a hop for it
        TargetRoute cached = cachedRoute(caller.tenantId(), name, versionOrAlias, true);
        if (cached == null) {
            return route(caller.tenantId(), name, versionOrAlias, true)
                    .compose(route -> infer(caller, requestId, route, body, binary));
        }
        try {
            return infer(caller, requestId, cached, body, binary);
        } catch (RuntimeException e) { // a refusal (an invalid tensor, ...) fails the future, as inside compose
            return Future.failedFuture(e);
        }
    }

    private Future<Outcome> infer(KeyPrincipal caller, String requestId, TargetRoute route, InferenceEnvelope body,
                                  io.vertx.core.buffer.Buffer binary) {
        InferenceTarget target = route.pick(caller.tenantId(), requestId);
        int rpm = target.plan().isPresent() ? target.plan().get().rateLimitPerMinute() : OWN_MODEL_RATE_LIMIT;
        RateLimiter.Decision rate = rateLimiter.acquire(new RateKey(caller.tenantId(), target.model().id()), rpm);
        if (!rate.allowed()) {
            return Future.failedFuture(new RateLimitedException("Rate limit of " + rpm + " requests per minute for "
                            + target.model().slug() + " reached", rate.limit(), rate.remaining(), rate.resetSeconds(),
                    RateLimiter.WINDOW_SECONDS));
        }
        TensorCodec.Decoded decoded = TensorCodec.decode(body, binary, target.manifest(), limits);
        // read before the model runs: a malformed label is a 400 for a call that never ran
        // (a body read in one pass has no parameters.label: the one pass leaves those to the tree)
        List<String> labels = route.split() && !body.fast() ? SplitFeedback.labels(body.tree(), decoded.items()) : List.of();
        Optional<Plan> free = target.plan().filter(Plan::free);
        Future<Outcome> outcome = free.isEmpty()
                ? run(caller, requestId, target, decoded, rate) // no allowance to take from: straight on
                : quotas.acquire(caller.tenantId(), target.model().id(), free.get().includedCalls()).compose(q -> q.allowed()
                        ? run(caller, requestId, target, decoded, rate)
                        : Future.failedFuture(new QuotaExhaustedException("The free plan's " + q.cap() + " calls for this month are used up;"
                                + " the allowance resets at " + q.resetAt() + ", or change to a paid plan", q.resetAt())));
        return route.split() ? observed(target, labels, outcome) : outcome;
    }

    /**
     * Counts a call routed through a split in its version's live figures: latency, error, and when
     * the caller sent the true answer ({@code parameters.label}: a label, or one per item) whether
     * the version's top class was it.
     */
    private Future<Outcome> observed(InferenceTarget target, List<String> labels, Future<Outcome> outcome) {
        long started = System.nanoTime();
        return outcome.andThen(ar -> {
            if (ar.failed() && !(ar.cause() instanceof com.modelmarket.serving.ServingException)) {
                return; // refused before the model (quota, metering backlog): not this version's doing
            }
            traffic.record(target.version().id(), System.nanoTime() - started, ar.failed());
            if (ar.succeeded() && !labels.isEmpty()) {
                SplitFeedback.score(target.manifest(), ar.result().result(), labels)
                        .ifPresent(correct -> traffic.feedback(target.version().id(), labels.size(), correct));
            }
        });
    }

    private Future<Outcome> run(KeyPrincipal caller, String requestId, InferenceTarget target, TensorCodec.Decoded decoded,
                                RateLimiter.Decision rate) {
        // A slot for the call's usage before the model runs: a call the meter could not keep is refused, never served unmetered.
        Optional<UsageMeter.Reservation> slot = metering ? meter.tryReserve() : Optional.empty();
        if (metering && slot.isEmpty()) {
            releaseQuota(caller, target);
            return Future.failedFuture(meter.backlog());
        }
        ModelKey key = keyOf(target);
        InferenceRequest request = new InferenceRequest(decoded.inputs(), decoded.outputs(), null);
        // a cold start: this call registered the version, or the engine loaded it for this batch
        Future<Outcome> ran;
        try {
            ran = engine.isRegistered(key) // nearly every call: no registration future to wait on
                    ? engine.infer(key, request).map(result -> new Outcome(target, decoded, result, result.facts().coldStart(), rate))
                    : ensureRegistered(key, target).compose(registeredNow -> engine.infer(key, request)
                            .map(result -> new Outcome(target, decoded, result, registeredNow || result.facts().coldStart(), rate)));
        } catch (RuntimeException e) { // the slot is still given back below, as when this ran inside compose
            ran = Future.failedFuture(e);
        }
        return ran.transform(ar -> meter(caller, requestId, target, decoded.items(), slot,
                                ar.succeeded() ? ar.result().result() : null, ar.cause())
                        .compose(metered -> ar.succeeded() ? Future.succeededFuture(ar.result()) : Future.<Outcome>failedFuture(ar.cause())));
    }

    /**
     * One request of an evaluation job ({@code evaluation}): the same path as {@link #infer} from
     * the usage slot on — registered on first use, batched by the engine with every other caller's
     * requests, and metered in the same way, so "metered = served" holds for evaluations too. What
     * differs is before it: the job checked entitlement once when it was created (through {@link
     * #resolve}), built its tensors from the manifest, and bounds its own rate (a window of requests
     * in flight), so no per-request rate limit applies. A subscriber's evaluation is its use of the
     * model like any call: its usage record carries the subscription (no API key), so it is invoiced
     * under the plan and takes from a free plan's monthly allowance — a request past the cap is refused
     * (the job fails, "quota"), never served free. The owner's evaluation of its own model is its own
     * compute, which no plan charges.
     */
    public Future<InferenceResult> evaluate(UUID tenantId, String requestId, InferenceTarget target,
                                            List<com.modelmarket.serving.model.Tensor> inputs) {
        Optional<Plan> free = target.plan().filter(Plan::free);
        Future<Void> quota = free.map(p -> quotas.acquire(tenantId, target.model().id(), p.includedCalls()).compose(q -> q.allowed()
                        ? Future.<Void>succeededFuture()
                        : Future.<Void>failedFuture(new QuotaExhaustedException("The free plan's " + q.cap() + " calls for this month "
                                + "are used up; the evaluation stopped. The allowance resets at " + q.resetAt(), q.resetAt()))))
                .orElse(Future.succeededFuture());
        return quota.compose(taken -> {
            Optional<UsageMeter.Reservation> slot = metering ? meter.tryReserve() : Optional.empty();
            if (metering && slot.isEmpty()) {
                free.ifPresent(p -> quotas.release(tenantId, target.model().id()));
                return Future.failedFuture(meter.backlog());
            }
            ModelKey key = keyOf(target);
            int items = (int) inputs.get(0).items();
            return ensureRegistered(key, target)
                    .compose(registered -> engine.infer(key, new InferenceRequest(inputs, List.of(), null)))
                    .transform(ar -> {
                        if (outcome(ar.succeeded() ? ar.result() : null, ar.cause()) == null) {
                            free.ifPresent(p -> quotas.release(tenantId, target.model().id())); // never reached the model
                        }
                        return record(slot, ar.succeeded() ? ar.result() : null, ar.cause(), result -> new UsageRecord(requestId,
                                tenantId, null, target.subscriptionId().orElse(null), target.model().id(), target.version().id(),
                                items, result == null ? 0 : result.facts().computeNanos(), outcome(result, ar.cause()), Instant.now()))
                                .compose(v -> ar.succeeded() ? Future.succeededFuture(ar.result()) : Future.failedFuture(ar.cause()));
                    });
        });
    }

    /** The engine's key of the target's version (a version id names its model and publisher). */
    private ModelKey keyOf(InferenceTarget target) {
        ModelKey known = modelKeys.get(target.version().id());
        if (known != null) {
            return known;
        }
        ModelKey key = ArtifactValidator.keyOf(target.model().tenantId(), target.model().id(), target.version().id());
        if (modelKeys.size() >= MAX_CACHED_MANIFESTS) {
            modelKeys.clear();
        }
        modelKeys.put(target.version().id(), key);
        return key;
    }

    /** How a request that reached the model ended; null if it never did (refused before running: not metered). */
    private static UsageOutcome outcome(InferenceResult result, Throwable failure) {
        if (result != null) {
            return UsageOutcome.SUCCESS;
        } else if (failure instanceof InferenceFailedException) {
            return UsageOutcome.SERVER_ERROR;
        } else if (failure instanceof DeadlineExceededException d && d.started()) {
            return UsageOutcome.TIMEOUT;
        }
        return null;
    }

    /** Fills the slot with the record of a request that reached the model, or gives it back. */
    private static Future<Void> record(Optional<UsageMeter.Reservation> slot, InferenceResult result, Throwable failure,
                                       java.util.function.Function<InferenceResult, UsageRecord> usage) {
        if (outcome(result, failure) == null) {
            slot.ifPresent(UsageMeter.Reservation::release);
            return Future.succeededFuture();
        }
        return slot.isEmpty() ? Future.succeededFuture() : slot.get().record(usage.apply(result));
    }

    /**
     * The one place that registers a version with this node's engine, on first use (after a
     * restart, or on another node): the engine's status is read once, and concurrent first calls
     * share one load. Completes with whether this call found the version unregistered.
     */
    private Future<Boolean> ensureRegistered(ModelKey key, InferenceTarget target) {
        if (engine.isRegistered(key)) {
            return Future.succeededFuture(false);
        }
        return loading.computeIfAbsent(key, k -> {
            var artifact = store.find(target.version().artifactSha256());
            if (artifact.isEmpty()) {
                return Future.failedFuture(new IllegalStateException("artifact " + target.version().artifactSha256()
                        + " of " + target.model().slug() + " " + target.version().version() + " is missing from the store"));
            }
            return engine.load(k, artifact.get(), target.manifest(), pool).<Void>mapEmpty()
                    .onComplete(ar -> loading.remove(k));
        }).map(true);
    }

    /**
     * One usage record for every request that reached the model, in its reserved slot; none for
     * those refused before it, whose slot is given back. The future completes when the answer may
     * go out: at once, or once the record is durable if the meter acknowledges after the fsync.
     */
    private Future<Void> meter(KeyPrincipal caller, String requestId, InferenceTarget target, int items,
                               Optional<UsageMeter.Reservation> slot, InferenceResult result, Throwable failure) {
        UsageOutcome outcome = outcome(result, failure);
        if (outcome == null) {
            releaseQuota(caller, target); // refused before the model ran (overload, deadline in the queue): not counted
        }
        // with no slot, metering is switched off by the operator (benchmarks measure what metering costs)
        return record(slot, result, failure, r -> new UsageRecord(requestId, caller.tenantId(), caller.keyId(),
                target.subscriptionId().orElse(null), target.model().id(), target.version().id(), items,
                r == null ? 0 : r.facts().computeNanos(), outcome, Instant.now()));
    }

    private void releaseQuota(KeyPrincipal caller, InferenceTarget target) {
        target.plan().filter(Plan::free).ifPresent(p -> quotas.release(caller.tenantId(), target.model().id()));
    }

    /** The metadata of a model version, as the Open Inference Protocol describes it. */
    public Future<JsonObject> metadata(UUID tenantId, String name, String versionOrAlias) {
        return resolve(tenantId, name, versionOrAlias, false).compose(target -> catalog.servingVersions(tenantId, target.model().id())
                .map(versions -> new JsonObject()
                        .put("name", target.model().slug())
                        .put("versions", new io.vertx.core.json.JsonArray(versions.stream().map(ModelVersion::version).toList()))
                        .put("platform", "pytorch_torchscript")
                        .put("inputs", specs(target.manifest().inputs()))
                        .put("outputs", specs(target.manifest().outputs()))));
    }

    private static io.vertx.core.json.JsonArray specs(List<com.modelmarket.serving.model.TensorSpec> specs) {
        io.vertx.core.json.JsonArray out = new io.vertx.core.json.JsonArray();
        for (var s : specs) {
            io.vertx.core.json.JsonArray shape = new io.vertx.core.json.JsonArray();
            for (long d : s.shape()) {
                shape.add(d);
            }
            out.add(new JsonObject().put("name", s.name()).put("datatype", s.datatype().oipName()).put("shape", shape));
        }
        return out;
    }
}
