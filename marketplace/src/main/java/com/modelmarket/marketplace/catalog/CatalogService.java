package com.modelmarket.marketplace.catalog;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.audit.AuditLog;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.db.TenantScope;
import com.modelmarket.marketplace.errors.BadRequestException;
import com.modelmarket.marketplace.errors.ConflictException;
import com.modelmarket.marketplace.errors.ForbiddenException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.serving.ServingEngine;
import com.modelmarket.serving.store.StoredArtifact;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Publishing: model cards, versions (validated by the serving engine before they exist), their
 * states, aliases and rollback. Reads apply the visibility rule for the caller's tenant.
 */
public final class CatalogService {

    private final Vertx vertx;
    private final CatalogRepository repository;
    private final ArtifactValidator validator;
    private final AuditLog audit;
    private final ServingEngine engine;
    private final long maxUploadBytes;
    private final CatalogChanges changes;
    private final UploadRepository uploads = new UploadRepository();
    private final SplitRepository splitRepository = new SplitRepository();
    private final Gatekeeper gatekeeper;
    private final SplitService splits;

    public CatalogService(Vertx vertx, io.vertx.sqlclient.Pool pool, ArtifactValidator validator, AuditLog audit,
                          ServingEngine engine, long maxUploadBytes, CatalogChanges changes) {
        this.changes = changes;
        this.vertx = vertx;
        this.repository = new CatalogRepository(pool);
        this.validator = validator;
        this.audit = audit;
        this.engine = engine;
        this.maxUploadBytes = maxUploadBytes;
        this.gatekeeper = new Gatekeeper(audit);
        this.splits = new SplitService(pool, repository, splitRepository, audit, changes, gatekeeper);
    }

    /** Where the publish gates are installed (once, by the composition root). */
    public Gatekeeper gatekeeper() {
        return gatekeeper;
    }

    /** Canary splits of aliases. */
    public SplitService splits() {
        return splits;
    }

    /** A model card as sent by a publisher: every field optional on update. */
    public record CardInput(Optional<String> kind, Optional<String> slug, Optional<String> name, Optional<String> summary,
                            Optional<String> description, Optional<String> task, Optional<List<String>> tags,
                            Optional<String> license, Optional<String> framework, Optional<String> visibility,
                            Optional<JsonObject> claimedMetrics, Optional<JsonObject> algorithm,
                            Optional<List<String>> sharedWith) {
    }

    public Future<CatalogModel> createModel(Actor actor, CardInput in) {
        requirePublisher(actor.principal());
        String kind = in.kind().orElse("model");
        CatalogRepository.Card card = new CatalogRepository.Card(kind,
                in.slug().orElseThrow(() -> new InvalidFieldException("/slug", "is required")),
                in.name().orElseThrow(() -> new InvalidFieldException("/name", "is required")),
                in.summary().orElse(""), in.description().orElse(""),
                in.task().orElseThrow(() -> new InvalidFieldException("/task", "is required")),
                in.tags().orElse(List.of()), in.license().orElse(""),
                in.framework().orElse(ModelKind.parse(kind).orElse(ModelKind.MODEL) == ModelKind.ALGORITHM ? "builtin" : "pytorch"),
                in.visibility().orElse("private"), in.claimedMetrics().orElse(new JsonObject()),
                in.algorithm().orElse(null));
        validateCard(card);
        UUID tenant = actor.principal().tenantId();
        return changes.inTransaction(repository.pool(), tenant, tx -> repository.slugTaken(tx, card.slug()).compose(taken -> {
                    if (taken) {
                        return Future.failedFuture(new ConflictException("The slug '" + card.slug() + "' is taken"));
                    }
                    return repository.insertModel(tx, tenant, card)
                            .compose(model -> shares(tx, model, in.sharedWith())
                                    .compose(v -> audit.record(tx, tenant, actor, "model.create", "model", model.id(),
                                            new JsonObject().put("slug", model.slug()).put("visibility", model.visibility())))
                                    .map(v -> model));
                }))
                .recover(CatalogService::mapConflict);
    }

    public Future<CatalogModel> updateModel(Actor actor, String idOrSlug, CardInput in) {
        requirePublisher(actor.principal());
        UUID tenant = actor.principal().tenantId();
        return changes.inTransaction(repository.pool(), tenant, tx -> owned(tx, tenant, idOrSlug).compose(m -> {
            CatalogRepository.Card card = new CatalogRepository.Card(m.kind().wire(), m.slug(), in.name().orElse(m.name()),
                    in.summary().orElse(m.summary()), in.description().orElse(m.description()),
                    in.task().orElse(m.task()), in.tags().orElse(m.tags()), in.license().orElse(m.license()),
                    in.framework().orElse(m.framework()), in.visibility().orElse(m.visibility()),
                    in.claimedMetrics().orElse(m.claimedMetrics()), in.algorithm().orElse(m.algorithmSpec()));
            validateCard(card);
            return repository.updateModel(tx, tenant, m.id(), card)
                    .compose(updated -> shares(tx, updated, in.sharedWith())
                            .compose(v -> audit.record(tx, tenant, actor, "model.update", "model", m.id(),
                                    new JsonObject().put("visibility", updated.visibility())))
                            .map(v -> updated));
        }));
    }

    /** The model page: card, publisher-only facts, versions, aliases. */
    public Future<JsonObject> modelPage(Optional<Principal> caller, String idOrSlug) {
        UUID tenant = caller.map(Principal::tenantId).orElse(null);
        return visible(tenant, idOrSlug).compose(m -> {
            boolean own = m.tenantId().equals(tenant);
            return TenantScope.tenantOrVisitor(repository.pool(), tenant, c -> repository.versions(c, m.id(), own)
                    .compose(versions -> repository.aliases(c, m.id())
                    .compose(aliases -> (own ? repository.shares(c, m.id()) : Future.succeededFuture(List.<String>of()))
                            .compose(shared -> repository.measurements(c, m.id()).compose(measured -> repository.publisher(c, m.tenantId()).map(publisher -> {
                                JsonObject json = m.toJson()
                                        .put("publisher", publisher)
                                        .put("owned", own)
                                        .put("versions", new io.vertx.core.json.JsonArray(versions.stream().map(v -> v.toJson()
                                                // issue 18: the platform's measurements, told apart from the card's claimedMetrics
                                                .put("platformMeasured", measured.getOrDefault(v.id(), new io.vertx.core.json.JsonArray())))
                                                .toList()))
                                        .put("aliases", new JsonObject(new java.util.LinkedHashMap<String, Object>(aliases)));
                                if (own) {
                                    json.put("sharedWith", new io.vertx.core.json.JsonArray(shared));
                                }
                                return json;
                            }))))));
        });
    }

    /** A model the caller may see, or 404. */
    public Future<CatalogModel> visible(UUID callerTenant, String idOrSlug) {
        return repository.findVisible(callerTenant, idOrSlug).compose(found -> found.map(Future::succeededFuture)
                .orElseGet(() -> Future.failedFuture(new NotFoundException("Model"))));
    }

    /** Validates the uploaded artifact with its manifest and records a draft version. */
    public Future<ModelVersion> createVersion(Actor actor, String idOrSlug, String versionText, Optional<String> artifactSha,
                                              Optional<JsonObject> manifest, Optional<String> bundleSha) {
        requirePublisher(actor.principal());
        SemVer version = SemVer.parse("/version", versionText);
        if (artifactSha.isPresent() == bundleSha.isPresent()) {
            throw new BadRequestException("Give either artifactSha256 with a manifest, or bundleSha256");
        }
        if (artifactSha.isPresent() && manifest.isEmpty()) {
            throw new InvalidFieldException("/manifest", "is required with artifactSha256");
        }
        UUID tenant = actor.principal().tenantId();
        UUID versionId = UUID.randomUUID();
        return TenantScope.tenant(repository.pool(), tenant, c -> owned(c, tenant, idOrSlug).compose(model ->
                repository.findVersion(c, model.id(), version.toString(), false).map(existing -> Map.entry(model, existing))))
                .compose(found -> {
                    CatalogModel model = found.getKey();
                    if (model.kind() != ModelKind.MODEL) {
                        return Future.failedFuture(new ConflictException("Algorithms have no uploaded versions"));
                    }
                    if (found.getValue().isPresent()) {
                        return Future.failedFuture(new ConflictException("Version " + version + " already exists; versions are immutable"));
                    }
                    return source(tenant, artifactSha, manifest, bundleSha)
                            .compose(src -> uploadedKind(src))
                            .compose(src -> validator.validate(model.tenantId(), model.id(), versionId, src.artifact(), src.manifest()))
                            .compose(measured -> changes.inTransaction(repository.pool(), tenant, tx -> repository.insertVersion(tx, versionId,
                                            model.id(), tenant, version, measured.artifact().sha256(), measured.artifact().sizeBytes(),
                                            measured.manifest().toJson(), measured.load().loadTime().toMillis(),
                                            measured.singleItemLatencyMicros(), actor.principal().userId())
                                    .compose(v -> audit.record(tx, tenant, actor, "version.create", "model_version", v.id(),
                                            new JsonObject().put("model", model.slug()).put("version", v.version())
                                                    .put("sha256", v.artifactSha256())).map(x -> v))))
                            .recover(err -> {
                                engine.unload(ArtifactValidator.keyOf(model.tenantId(), model.id(), versionId));
                                return mapConflict(err);
                            });
                });
    }

    private record Source(StoredArtifact artifact, JsonObject manifest) {
    }

    /** Uploads are TorchScript: a trained-model artifact is made only by the platform's own training jobs. */
    private static Future<Source> uploadedKind(Source src) {
        Object kind = src.manifest().getValue("artifact");
        if (kind != null && !"torchscript".equals(kind)) {
            return Future.failedFuture(new InvalidFieldException("/manifest/artifact",
                    "uploaded versions are TorchScript; trained models are made by training jobs (/api/v1/training-jobs)"));
        }
        return Future.succeededFuture(src);
    }

    private Future<Source> source(UUID tenant, Optional<String> artifactSha, Optional<JsonObject> manifest,
                                  Optional<String> bundleSha) {
        if (artifactSha.isPresent()) {
            return ownUpload(tenant, "/artifactSha256", artifactSha.get()).map(artifact -> new Source(artifact, manifest.get()));
        }
        BundleReader reader = new BundleReader(validator.store(), maxUploadBytes);
        return ownUpload(tenant, "/bundleSha256", bundleSha.get())
                .compose(zip -> vertx.executeBlocking(() -> reader.read(zip), false))
                .map(bundle -> new Source(bundle.model(), bundle.manifest()));
    }

    /** Records that the caller's tenant uploaded {@code artifact} (the store itself is shared and de-duplicated). */
    public Future<StoredArtifact> recordUpload(Principal uploader, StoredArtifact artifact) {
        return TenantScope.tenant(repository.pool(), uploader.tenantId(), c -> uploads.record(c, uploader.tenantId(),
                artifact.sha256(), artifact.sizeBytes(), uploader.userId())).map(v -> artifact);
    }

    /**
     * An upload of the caller's own tenant. Another tenant's upload is not found, exactly like a
     * hash nobody uploaded: a public model card shows its artifact's hash, and the hash alone must
     * not be enough to publish a copy.
     */
    /** An upload of the tenant's with this SHA-256 (404 naming {@code pointer} otherwise): what it may build on. */
    public Future<StoredArtifact> ownUpload(UUID tenant, String pointer, String sha256) {
        return TenantScope.tenant(repository.pool(), tenant, c -> uploads.owns(c, tenant, sha256)).compose(owned -> {
            Optional<StoredArtifact> stored = owned ? validator.store().find(sha256) : Optional.empty();
            return stored.map(Future::succeededFuture).orElseGet(() -> Future.failedFuture(NotFoundException.at(pointer,
                    pointer + ": no upload of yours has this SHA-256; upload the file to /api/v1/uploads first")));
        });
    }

    /**
     * Publishes a draft through the publish gates: when publishing moves {@code latest} (the draft
     * is the highest version), the draft is checked against the version {@code latest} points at
     * now; a failing gate is a 409 with its figures unless {@code override} (audited) says go ahead.
     */
    public Future<ModelVersion> publish(Actor actor, String idOrSlug, String versionText, Optional<GateOverride> override) {
        requirePublisher(actor.principal());
        return gatedPublish(actor, idOrSlug, versionText, override);
    }

    /** {@link #publish} once the caller may publish: the model's gates decide when the version would move {@code latest}. */
    private Future<ModelVersion> gatedPublish(Actor actor, String idOrSlug, String versionText, Optional<GateOverride> override) {
        UUID tenant = actor.principal().tenantId();
        return TenantScope.tenant(repository.pool(), tenant, c -> owned(c, tenant, idOrSlug).compose(model ->
                        repository.findVersion(c, model.id(), versionText, false).compose(candidate -> candidate.isEmpty()
                                || candidate.get().state() != VersionState.DRAFT
                                ? Future.succeededFuture(new Gated(model, null, null))
                                : repository.versions(c, model.id(), false).compose(all -> highest(all, candidate.get())
                                        ? repository.resolve(c, model.id(), "latest").map(latest -> new Gated(model,
                                                latest.orElse(null), candidate.get()))
                                        : Future.succeededFuture(new Gated(model, null, null))))))
                .compose(g -> g.candidate() == null
                        ? changeState(actor, idOrSlug, versionText, VersionState.PUBLISHED, tx -> Future.succeededFuture())
                        : gatekeeper.pass(g.model(), g.current(), g.candidate(), PublishGuard.Scope.ALL, override)
                                .compose(verdict -> changeState(actor, idOrSlug, versionText, VersionState.PUBLISHED,
                                        tx -> gatekeeper.recordOverride(tx, actor, g.model(), "publish", g.current(), g.candidate(),
                                                verdict, override))));
    }

    /** A change the gates look at: the model, the version the alias leaves (null: none) and the one it takes. */
    private record Gated(CatalogModel model, ModelVersion current, ModelVersion candidate) {
    }

    private static boolean highest(List<ModelVersion> all, ModelVersion candidate) {
        SemVer mine = SemVer.parse("/version", candidate.version());
        return all.stream().filter(ModelVersion::serves).filter(v -> !v.id().equals(candidate.id()))
                .allMatch(v -> SemVer.parse("/version", v.version()).compareTo(mine) < 0);
    }

    /** Moves a version along draft → published → deprecated → retired (no gates: see {@link #publish}). */
    public Future<ModelVersion> changeState(Actor actor, String idOrSlug, String versionText, VersionState target) {
        return changeState(actor, idOrSlug, versionText, target, tx -> Future.succeededFuture());
    }

    private Future<ModelVersion> changeState(Actor actor, String idOrSlug, String versionText, VersionState target,
                                             java.util.function.Function<io.vertx.sqlclient.SqlClient, Future<Void>> alsoInTx) {
        requirePublisher(actor.principal());
        UUID tenant = actor.principal().tenantId();
        return changes.inTransaction(repository.pool(), tenant, tx -> owned(tx, tenant, idOrSlug).compose(model ->
                repository.findVersion(tx, model.id(), versionText, true).compose(found -> {
                    ModelVersion v = found.orElseThrow(() -> new NotFoundException("Version"));
                    if (!v.state().mayBecome(target)) {
                        return Future.failedFuture(new ConflictException("A " + v.state() + " version cannot become " + target));
                    }
                    Future<Void> guard = target == VersionState.RETIRED ? refuseIfAliased(tx, model.id(), v) : Future.succeededFuture();
                    return guard.compose(g -> alsoInTx.apply(tx)).compose(g -> repository.setState(tx, v.id(), target))
                            .compose(updated -> (target == VersionState.PUBLISHED ? moveLatest(tx, model.id(), updated)
                                    : Future.<Void>succeededFuture())
                                    .compose(x -> audit.record(tx, tenant, actor, "version." + target.verb(), "model_version",
                                            v.id(), new JsonObject().put("model", model.slug()).put("version", v.version())))
                                    .map(x -> updated));
                })));
    }

    /** Points an alias at a version (a rollback is a move back); effective for new requests at once. */
    public Future<Map<String, String>> moveAlias(Actor actor, String idOrSlug, String alias, String versionText) {
        return moveAlias(actor, idOrSlug, alias, versionText, Optional.empty());
    }

    /**
     * Points an alias at a version once the version passes the publish gates against the alias'
     * current version (or {@code override}, audited, says go ahead). A split of the alias ends: the
     * alias now points at one version.
     */
    public Future<Map<String, String>> moveAlias(Actor actor, String idOrSlug, String alias, String versionText,
                                                 Optional<GateOverride> override) {
        requirePublisher(actor.principal());
        if (!alias.matches("[a-z][a-z0-9_-]{0,31}")) {
            throw new InvalidFieldException("/alias", "must be lower-case letters, digits, '-' or '_', starting with a letter");
        }
        UUID tenant = actor.principal().tenantId();
        return TenantScope.tenant(repository.pool(), tenant, c -> owned(c, tenant, idOrSlug).compose(model ->
                        repository.findVersion(c, model.id(), versionText, false).compose(found -> {
                            ModelVersion v = found.orElseThrow(() -> new InvalidFieldException("/version", "no version " + versionText));
                            if (!v.serves()) {
                                return Future.failedFuture(new ConflictException("An alias can point only at a published or deprecated version"));
                            }
                            return repository.resolve(c, model.id(), alias).map(current -> new Gated(model, current.orElse(null), v));
                        })))
                .compose(g -> gatekeeper.pass(g.model(), g.current(), g.candidate(), PublishGuard.Scope.ALL, override)
                        .compose(verdict -> changes.inTransaction(repository.pool(), tenant, tx -> repository.aliases(tx, g.model().id())
                                .compose(before -> repository.setAlias(tx, g.model().id(), alias, g.candidate().id())
                                        .compose(x -> splitRepository.delete(tx, g.model().id(), alias))
                                        .compose(x -> gatekeeper.recordOverride(tx, actor, g.model(), "alias", g.current(), g.candidate(),
                                                verdict, override))
                                        .compose(x -> audit.record(tx, tenant, actor, "alias.move", "model", g.model().id(),
                                                new JsonObject().put("alias", alias).put("from", before.get(alias))
                                                        .put("to", g.candidate().version())))
                                        .compose(x -> repository.aliases(tx, g.model().id()))))));
    }

    public Future<Void> deleteAlias(Actor actor, String idOrSlug, String alias) {
        requirePublisher(actor.principal());
        UUID tenant = actor.principal().tenantId();
        return changes.inTransaction(repository.pool(), tenant, tx -> owned(tx, tenant, idOrSlug).compose(model ->
                repository.deleteAlias(tx, model.id(), alias).compose(deleted -> deleted
                        ? audit.record(tx, tenant, actor, "alias.delete", "model", model.id(), new JsonObject().put("alias", alias))
                        : Future.failedFuture(new NotFoundException("Alias")))));
    }

    /**
     * The version a caller of {@code model} gets for {@code versionOrAlias} (a number or an alias);
     * without one, the {@code latest} alias, else the highest serving version. Its manifest comes
     * without the example input; {@link #manifest} has the whole of it.
     */
    public Future<Optional<ModelVersion>> resolve(UUID callerTenant, UUID modelId, String versionOrAlias) {
        return TenantScope.tenantOrVisitor(repository.pool(), callerTenant, c -> {
            if (versionOrAlias != null) {
                return repository.resolve(c, modelId, versionOrAlias);
            }
            return repository.resolve(c, modelId, "latest").compose(latest -> latest.isPresent()
                    ? Future.succeededFuture(latest)
                    : repository.versions(c, modelId, false, ModelVersion.COLUMNS_NO_EXAMPLE)
                            .map(all -> all.stream().filter(ModelVersion::serves).findFirst()));
        });
    }

    /** A version's whole manifest, example input included (versions never change it, so callers may cache it). */
    public Future<JsonObject> manifest(UUID callerTenant, UUID versionId) {
        return TenantScope.tenantOrVisitor(repository.pool(), callerTenant, c -> repository.manifest(c, versionId))
                .compose(found -> found.map(Future::succeededFuture)
                        .orElseGet(() -> Future.failedFuture(new NotFoundException("Version"))));
    }

    /** A version of a model of {@code owner}'s, by id, manifest whole; empty if there is none (or it is another tenant's). */
    public Future<Optional<ModelVersion>> ownVersion(UUID owner, UUID versionId) {
        return TenantScope.tenant(repository.pool(), owner, c -> repository.findVersionById(c, owner, versionId));
    }

    /** The serving versions of a model, newest first; their manifests without the example input. */
    public Future<List<ModelVersion>> servingVersions(UUID callerTenant, UUID modelId) {
        return TenantScope.tenantOrVisitor(repository.pool(), callerTenant,
                        c -> repository.versions(c, modelId, false, ModelVersion.COLUMNS_NO_EXAMPLE))
                .map(all -> all.stream().filter(ModelVersion::serves).toList());
    }

    /** Where the catalog's changes are counted (for a change made outside this service). */
    public CatalogChanges changes() {
        return changes;
    }

    private Future<Void> moveLatest(io.vertx.sqlclient.SqlClient tx, UUID modelId, ModelVersion published) {
        // latest moving to a new version ends a split of it: the split was between the versions it leaves
        return repository.versions(tx, modelId, false).compose(all -> highest(all, published)
                ? repository.setAlias(tx, modelId, "latest", published.id())
                        .compose(v -> splitRepository.delete(tx, modelId, "latest")).mapEmpty()
                : Future.succeededFuture());
    }

    private Future<Void> refuseIfAliased(io.vertx.sqlclient.SqlClient tx, UUID modelId, ModelVersion v) {
        return repository.aliases(tx, modelId).compose(aliases -> {
            List<String> pointing = aliases.entrySet().stream().filter(e -> e.getValue().equals(v.version()))
                    .map(Map.Entry::getKey).toList();
            if (!pointing.isEmpty()) {
                return Future.failedFuture(new ConflictException(
                        "Alias(es) " + String.join(", ", pointing) + " point at " + v.version() + "; move them before retiring it"));
            }
            return splitRepository.canaryOf(tx, v.id()).compose(canaryOf -> canaryOf.isEmpty() ? Future.<Void>succeededFuture()
                    : Future.failedFuture(new ConflictException("The split(s) of " + String.join(", ", canaryOf) + " send calls to "
                            + v.version() + "; roll them back or promote them before retiring it")));
        });
    }

    private Future<Void> shares(io.vertx.sqlclient.SqlClient tx, CatalogModel model, Optional<List<String>> sharedWith) {
        if (sharedWith.isEmpty()) {
            return Future.succeededFuture();
        }
        return repository.replaceShares(tx, model.id(), model.tenantId(), sharedWith.get()).compose(missing -> missing.isEmpty()
                ? Future.succeededFuture()
                : Future.failedFuture(new InvalidFieldException("/sharedWith", "no organisation " + String.join(", ", missing))));
    }

    private Future<CatalogModel> owned(io.vertx.sqlclient.SqlClient client, UUID tenant, String idOrSlug) {
        return repository.findOwned(client, tenant, idOrSlug, false).compose(found -> found.map(Future::succeededFuture)
                .orElseGet(() -> Future.failedFuture(new NotFoundException("Model"))));
    }

    /** The framework of models the platform trained (training jobs); their versions are trained-model artifacts. */
    public static final String TRAINED_FRAMEWORK = "modelmarket-trained";

    /**
     * Where a training job may write: the caller's own trained model {@code slug} (a new version of it),
     * or nothing yet (a new model will be made); 409 if another organisation has the slug, or the
     * caller's model of that slug was not made by training (its inputs are not the dataset's).
     */
    public Future<Optional<CatalogModel>> trainingTarget(UUID tenant, String slug) {
        return TenantScope.tenant(repository.pool(), tenant, c -> repository.findOwned(c, tenant, slug, false)
                .compose(own -> {
                    if (own.isPresent()) {
                        if (own.get().kind() != ModelKind.MODEL || !TRAINED_FRAMEWORK.equals(own.get().framework())) {
                            return Future.failedFuture(new ConflictException("Your model '" + slug
                                    + "' was not made by training; choose a new name for the trained model"));
                        }
                        return Future.succeededFuture(own);
                    }
                    return repository.slugTaken(c, slug).compose(taken -> taken
                            ? Future.failedFuture(new ConflictException("The slug '" + slug + "' is taken"))
                            : Future.succeededFuture(Optional.<CatalogModel>empty()));
                }));
    }

    /** The highest version of a model of the caller's, drafts included ("0.0.0" if it has none). */
    public Future<String> highestVersion(UUID tenant, UUID modelId) {
        return TenantScope.tenant(repository.pool(), tenant, c -> repository.versions(c, modelId, true)).map(versions ->
                versions.stream().map(v -> SemVer.parse("/version", v.version())).max(SemVer::compareTo)
                        .orElse(new SemVer(0, 0, 0)).toString());
    }

    /**
     * A training job's result as a new, published version of the caller's model {@code slug} (made,
     * private, if it does not exist): the artifact goes through the same store, validation and
     * measurement as an upload; {@code training} (the platform's metrics, curve, dataset and
     * hyperparameters) is kept in the version's manifest, where the model card shows it. Publishing
     * moves {@code latest} when the version is the highest. On any failure nothing is left: no
     * version, the model loaded for validation unloaded (a model made for it stays, empty).
     */
    public Future<ModelVersion> publishTrained(Actor actor, String slug, String name, String task, String versionText,
                                               StoredArtifact artifact, JsonObject manifest, JsonObject training) {
        UUID tenant = actor.principal().tenantId();
        SemVer version = SemVer.parse("/target/version", versionText);
        UUID versionId = UUID.randomUUID();
        return trainingTarget(tenant, slug).compose(found -> found.isPresent() ? Future.succeededFuture(found.get())
                : createModel(actor, new CardInput(Optional.of("model"), Optional.of(slug), Optional.of(name),
                        Optional.of("Trained by ModelMarket on your data"), Optional.of(""), Optional.of(task),
                        Optional.of(List.of("trained")), Optional.of(""), Optional.of(TRAINED_FRAMEWORK), Optional.of("private"),
                        Optional.empty(), Optional.empty(), Optional.empty())))
                .compose(model -> validator.validate(tenant, model.id(), versionId, artifact, manifest)
                        .compose(measured -> changes.inTransaction(repository.pool(), tenant, tx -> repository.insertVersion(tx,
                                        versionId, model.id(), tenant, version, measured.artifact().sha256(),
                                        measured.artifact().sizeBytes(), measured.manifest().toJson().put("training", training),
                                        measured.load().loadTime().toMillis(), measured.singleItemLatencyMicros(),
                                        actor.principal().userId())
                                .compose(v -> audit.record(tx, tenant, actor, "version.create", "model_version", v.id(),
                                        new JsonObject().put("model", model.slug()).put("version", v.version())
                                                .put("sha256", v.artifactSha256()).put("trainingJob", training.getString("jobId")))
                                        .map(x -> v))))
                        // a trained version passes the model's publish gates like any other (a retrain that
                        // got worse on the tenant's reference data does not move latest)
                        .compose(v -> gatedPublish(actor, slug, v.version(), Optional.empty()))
                        .recover(err -> {
                            engine.unload(ArtifactValidator.keyOf(tenant, model.id(), versionId));
                            if (err instanceof com.modelmarket.marketplace.errors.GateFailedException) {
                                // the job fails and leaves no version: the draft it made goes
                                return changes.inTransaction(repository.pool(), tenant, tx -> repository.deleteDraft(tx, tenant,
                                                versionId).compose(deleted -> audit.record(tx, tenant, actor, "version.delete",
                                                "model_version", versionId, new JsonObject().put("model", slug)
                                                        .put("version", versionText).put("reason", "a publish gate refused it"))))
                                        .transform(ar -> Future.<ModelVersion>failedFuture(err));
                            }
                            return mapConflict(err);
                        }));
    }

    private static void validateCard(CatalogRepository.Card c) {
        if (ModelKind.parse(c.kind()).isEmpty()) {
            throw new InvalidFieldException("/kind", "must be one of " + CatalogModel.KINDS);
        }
        if (!c.slug().matches("[a-z0-9][a-z0-9-]{0,62}")) {
            throw new InvalidFieldException("/slug", "must be lower-case letters, digits and '-', at most 63 characters");
        }
        if (!CatalogModel.TASKS.contains(c.task())) {
            throw new InvalidFieldException("/task", "must be one of " + CatalogModel.TASKS);
        }
        if (!CatalogModel.VISIBILITIES.contains(c.visibility())) {
            throw new InvalidFieldException("/visibility", "must be one of " + CatalogModel.VISIBILITIES);
        }
        if (ModelKind.parse(c.kind()).orElseThrow() == ModelKind.ALGORITHM) {
            if (c.algorithmSpec() == null) {
                throw new InvalidFieldException("/algorithm", "an algorithm needs its training recipe");
            }
            if (c.algorithmSpec().containsKey("fineTune")) {
                validateFineTune(c.algorithmSpec());
            } else {
                try {
                    com.modelmarket.serving.training.TrainingRecipe.fromJson(c.algorithmSpec());
                } catch (com.modelmarket.serving.training.InvalidFieldException e) {
                    throw new InvalidFieldException("/algorithm" + e.pointer(), e.detail());
                }
            }
        }
    }

    /**
     * A fine-tuning algorithm: {@code {"task", "fineTune": {"model": slug, "version": "x.y.z"},
     * "hyperparameters": {...}}} — the publisher offers one of its TorchScript models to be tuned on
     * buyers' rows; the schema's defaults must be valid fine-tuning settings. The model itself is
     * checked when a job starts (it must be the publisher's and still serve).
     */
    private static void validateFineTune(JsonObject spec) {
        for (String key : spec.fieldNames()) {
            if (!List.of("task", "fineTune", "hyperparameters", "description").contains(key)) {
                throw new InvalidFieldException("/algorithm/" + key, "not a field of a fine-tuning algorithm");
            }
        }
        if (!List.of("classification", "regression").contains(String.valueOf(spec.getValue("task")))) {
            throw new InvalidFieldException("/algorithm/task", "must be classification or regression");
        }
        if (!(spec.getValue("fineTune") instanceof JsonObject ft) || !(ft.getValue("model") instanceof String model)
                || !model.matches("[a-z0-9][a-z0-9-]{0,62}") || !(ft.getValue("version") instanceof String v)) {
            throw new InvalidFieldException("/algorithm/fineTune", "must be {\"model\": a model slug of yours, \"version\": \"1.0.0\"}");
        }
        SemVer.parse("/algorithm/fineTune/version", v);
        Object hp = spec.getValue("hyperparameters");
        if (hp != null && !(hp instanceof JsonObject)) {
            throw new InvalidFieldException("/algorithm/hyperparameters", "must be an object");
        }
        JsonObject defaults = new JsonObject();
        if (hp instanceof JsonObject h) {
            for (String name : h.fieldNames()) {
                if (h.getValue(name) instanceof JsonObject field && field.containsKey("default")) {
                    defaults.put(name, field.getValue("default"));
                }
            }
        }
        try {
            com.modelmarket.serving.training.FineTuneSettings.fromJson(defaults);
        } catch (IllegalArgumentException e) {
            throw new InvalidFieldException("/algorithm/hyperparameters", e.getMessage());
        }
    }

    /** A serving version of a model of {@code owner}'s, with its full manifest: the base of a fine-tuning job. */
    public Future<ModelVersion> ownServingVersion(UUID owner, String slug, String version) {
        return TenantScope.tenant(repository.pool(), owner, c -> owned(c, owner, slug).compose(model ->
                repository.findVersion(c, model.id(), version, false))).compose(found -> found
                .filter(ModelVersion::serves).map(Future::succeededFuture)
                .orElseGet(() -> Future.failedFuture(new ConflictException("The model this algorithm fine-tunes ("
                        + slug + " " + version + ") is not served any more"))));
    }

    private static void requirePublisher(Principal p) {
        if (!p.role().canPublish()) {
            throw new ForbiddenException("Only owners, admins and publishers publish models");
        }
    }

    private static <T> Future<T> mapConflict(Throwable err) {
        if (err instanceof PgException pg && "23505".equals(pg.getSqlState())) {
            return Future.failedFuture(new ConflictException("That version or slug already exists"));
        }
        return Future.failedFuture(err);
    }
}
