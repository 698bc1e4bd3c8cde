package com.modelmarket.marketplace.catalog;

import com.modelmarket.marketplace.db.TenantScope;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/**
 * SQL for models, their shares, versions and aliases. Reads for callers go through the
 * visibility rule; writes take the publisher's tenant id from the principal.
 */
final class CatalogRepository {

    /**
     * A model the tenant {@code $1} (null when anonymous) may see: its own, or a public model, or
     * one shared with it — and, unless it is the tenant's own, one that has a serving version
     * (algorithms have none and show at once). A deleted publisher's models are gone. Whether a model
     * has a version in service is {@code models.listed}, kept by a trigger (migration V17).
     */
    static final String VISIBLE = "((m.tenant_id = $1::uuid OR ((m.visibility = 'public' OR (m.visibility = 'shared' "
            + "AND EXISTS (SELECT 1 FROM model_shares s WHERE s.model_id = m.id AND s.tenant_id = $1::uuid))) "
            + "AND (m.kind = 'algorithm' OR m.listed))) "
            + "AND NOT EXISTS (SELECT 1 FROM tenants dt WHERE dt.id = m.tenant_id AND dt.deleted_at IS NOT NULL))";

    private final Pool pool;

    CatalogRepository(Pool pool) {
        this.pool = pool;
    }

    Pool pool() {
        return pool;
    }

    /** The fields of a model card, as written by its publisher. */
    record Card(String kind, String slug, String name, String summary, String description, String task,
                List<String> tags, String license, String framework, String visibility, JsonObject claimedMetrics,
                JsonObject algorithmSpec) {
    }

    Future<CatalogModel> insertModel(SqlClient tx, UUID tenantId, Card c) {
        return tx.preparedQuery("INSERT INTO models AS m (tenant_id, kind, slug, name, summary, description, task, tags, "
                        + "license, framework, visibility, claimed_metrics, algorithm_spec) "
                        + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING " + CatalogModel.COLUMNS)
                .execute(Tuple.from(new Object[] {tenantId, c.kind(), c.slug(), c.name(), c.summary(), c.description(),
                        c.task(), c.tags().toArray(new String[0]), c.license(), c.framework(), c.visibility(),
                        c.claimedMetrics(), c.algorithmSpec()}))
                .map(rows -> CatalogModel.from(rows.iterator().next()));
    }

    Future<CatalogModel> updateModel(SqlClient tx, UUID tenantId, UUID id, Card c) {
        return tx.preparedQuery("UPDATE models AS m SET name = $3, summary = $4, description = $5, task = $6, tags = $7, "
                        + "license = $8, framework = $9, visibility = $10, claimed_metrics = $11, algorithm_spec = $12, "
                        + "updated_at = now() WHERE m.tenant_id = $1 AND m.id = $2 RETURNING " + CatalogModel.COLUMNS)
                .execute(Tuple.from(new Object[] {tenantId, id, c.name(), c.summary(), c.description(), c.task(),
                        c.tags().toArray(new String[0]), c.license(), c.framework(), c.visibility(), c.claimedMetrics(),
                        c.algorithmSpec()}))
                .map(rows -> CatalogModel.from(rows.iterator().next()));
    }

    /** Replaces the tenants a model is shared with; returns the slugs that named no tenant. */
    Future<List<String>> replaceShares(SqlClient tx, UUID modelId, UUID ownerTenant, List<String> tenantSlugs) {
        return tx.preparedQuery("DELETE FROM model_shares WHERE model_id = $1").execute(Tuple.of(modelId))
                .compose(v -> tx.preparedQuery("INSERT INTO model_shares (model_id, tenant_id) SELECT $1, t.id FROM tenants t "
                                + "WHERE t.slug = ANY($2) AND t.id <> $3 AND t.deleted_at IS NULL RETURNING "
                                + "(SELECT slug FROM tenants WHERE id = tenant_id)")
                        .execute(Tuple.of(modelId, tenantSlugs.toArray(new String[0]), ownerTenant)))
                .map(rows -> {
                    List<String> missing = new ArrayList<>(tenantSlugs);
                    rows.forEach(r -> missing.remove(r.getString(0)));
                    return missing;
                });
    }

    Future<List<String>> shares(SqlClient client, UUID modelId) {
        return client.preparedQuery("SELECT t.slug FROM model_shares s JOIN tenants t ON t.id = s.tenant_id "
                        + "WHERE s.model_id = $1 ORDER BY t.slug")
                .execute(Tuple.of(modelId))
                .map(rows -> list(rows, r -> r.getString(0)));
    }

    /** A model the caller (null: anonymous) may see, by id or slug. */
    Future<Optional<CatalogModel>> findVisible(UUID callerTenant, String idOrSlug) {
        UUID id = parseUuid(idOrSlug);
        return TenantScope.tenantOrVisitor(pool, callerTenant, c -> c.preparedQuery("SELECT " + CatalogModel.COLUMNS
                        + " FROM models m WHERE " + (id != null ? "m.id = $2" : "m.slug = $2") + " AND " + VISIBLE)
                .execute(Tuple.of(callerTenant, id != null ? id : idOrSlug))
                .map(rows -> first(rows).map(CatalogModel::from)));
    }

    /** The caller's own model (for writes), locked when asked. */
    Future<Optional<CatalogModel>> findOwned(SqlClient client, UUID tenantId, String idOrSlug, boolean forUpdate) {
        UUID id = parseUuid(idOrSlug);
        return client.preparedQuery("SELECT " + CatalogModel.COLUMNS + " FROM models m WHERE m.tenant_id = $1 AND "
                        + (id != null ? "m.id = $2" : "m.slug = $2") + (forUpdate ? " FOR UPDATE" : ""))
                .execute(Tuple.of(tenantId, id != null ? id : idOrSlug))
                .map(rows -> first(rows).map(CatalogModel::from));
    }

    /** The publishing organisation's public face (tenants hold no private rows: no scope needed). */
    Future<JsonObject> publisher(SqlClient client, UUID tenantId) {
        return client.preparedQuery("SELECT slug, name FROM tenants WHERE id = $1").execute(Tuple.of(tenantId))
                .map(rows -> first(rows).map(r -> new JsonObject().put("slug", r.getString("slug")).put("name", r.getString("name")))
                        .orElse(new JsonObject()));
    }

    /** Whether any tenant's model has this slug (slugs are global; the row itself stays hidden). */
    Future<Boolean> slugTaken(SqlClient client, String slug) {
        return client.preparedQuery("SELECT mm_model_slug_taken($1)").execute(Tuple.of(slug))
                .map(r -> r.iterator().next().getBoolean(0));
    }

    Future<List<ModelVersion>> versions(SqlClient client, UUID modelId, boolean includeDrafts) {
        return versions(client, modelId, includeDrafts, ModelVersion.COLUMNS);
    }

    /** As {@link #versions(SqlClient, UUID, boolean)}, reading {@code columns} ({@link ModelVersion}'s). */
    Future<List<ModelVersion>> versions(SqlClient client, UUID modelId, boolean includeDrafts, String columns) {
        return client.preparedQuery("SELECT " + columns + " FROM model_versions v WHERE v.model_id = $1"
                        + (includeDrafts ? "" : " AND v.state <> 'draft'") + " ORDER BY v.major DESC, v.minor DESC, v.patch DESC")
                .execute(Tuple.of(modelId))
                .map(rows -> list(rows, ModelVersion::from));
    }

    Future<ModelVersion> insertVersion(SqlClient tx, UUID id, UUID modelId, UUID tenantId, SemVer version,
                                       String sha256, long size, JsonObject manifest, long loadMillis,
                                       long latencyMicros, UUID createdBy) {
        return tx.preparedQuery("INSERT INTO model_versions AS v (id, model_id, tenant_id, version, major, minor, patch, state, "
                        + "artifact_sha256, artifact_size, manifest, load_millis, single_latency_micros, created_by) "
                        + "VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9, $10, $11, $12, $13) RETURNING " + ModelVersion.COLUMNS)
                .execute(Tuple.from(new Object[] {id, modelId, tenantId, version.toString(), version.major(),
                        version.minor(), version.patch(), sha256, size, manifest, loadMillis, latencyMicros, createdBy}))
                .map(rows -> ModelVersion.from(rows.iterator().next()));
    }

    Future<Optional<ModelVersion>> findVersion(SqlClient client, UUID modelId, String version, boolean forUpdate) {
        return client.preparedQuery("SELECT " + ModelVersion.COLUMNS + " FROM model_versions v WHERE v.model_id = $1 "
                        + "AND v.version = $2" + (forUpdate ? " FOR UPDATE" : ""))
                .execute(Tuple.of(modelId, version))
                .map(rows -> first(rows).map(ModelVersion::from));
    }

    /** A version of the tenant's own, by id. */
    Future<Optional<ModelVersion>> findVersionById(SqlClient client, UUID tenantId, UUID versionId) {
        return client.preparedQuery("SELECT " + ModelVersion.COLUMNS + " FROM model_versions v WHERE v.id = $1 AND v.tenant_id = $2")
                .execute(Tuple.of(versionId, tenantId))
                .map(rows -> first(rows).map(ModelVersion::from));
    }

    Future<ModelVersion> setState(SqlClient tx, UUID versionId, VersionState state) {
        String stamp = switch (state) {
            case PUBLISHED -> "published_at";
            case DEPRECATED -> "deprecated_at";
            case RETIRED -> "retired_at";
            case DRAFT -> throw new IllegalArgumentException("a version never returns to draft");
        };
        return tx.preparedQuery("UPDATE model_versions AS v SET state = $2, " + stamp + " = now() WHERE v.id = $1 RETURNING "
                        + ModelVersion.COLUMNS)
                .execute(Tuple.of(versionId, state.wire()))
                .map(rows -> ModelVersion.from(rows.iterator().next()));
    }

    /** Alias name → version string, for one model. */
    Future<Map<String, String>> aliases(SqlClient client, UUID modelId) {
        return client.preparedQuery("SELECT a.alias, v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id "
                        + "WHERE a.model_id = $1 ORDER BY a.alias")
                .execute(Tuple.of(modelId))
                .map(rows -> {
                    Map<String, String> map = new LinkedHashMap<>();
                    rows.forEach(r -> map.put(r.getString(0), r.getString(1)));
                    return map;
                });
    }

    /**
     * What the platform measured on the model's reference datasets (evaluation jobs of its
     * publisher, table {@code platform_measurements}), per version id, newest first: shown on the card
     * beside the publisher's {@code claimedMetrics}, never mixed with them.
     */
    Future<Map<UUID, io.vertx.core.json.JsonArray>> measurements(SqlClient client, UUID modelId) {
        return client.preparedQuery("SELECT version_id, evaluation_id, dataset, metrics, measured_at FROM platform_measurements "
                        + "WHERE model_id = $1 ORDER BY measured_at DESC, evaluation_id")
                .execute(Tuple.of(modelId))
                .map(rows -> {
                    Map<UUID, io.vertx.core.json.JsonArray> map = new LinkedHashMap<>();
                    rows.forEach(r -> map.computeIfAbsent(r.getUUID("version_id"), k -> new io.vertx.core.json.JsonArray())
                            .add(new io.vertx.core.json.JsonObject().put("evaluationId", r.getUUID("evaluation_id").toString())
                                    .put("measuredBy", "platform").put("requestedBy", "publisher")
                                    .put("dataset", r.getValue("dataset")).put("metrics", r.getValue("metrics"))
                                    .put("measuredAt", r.getOffsetDateTime("measured_at").toInstant().toString())));
                    return map;
                });
    }

    Future<Void> setAlias(SqlClient tx, UUID modelId, String alias, UUID versionId) {
        return tx.preparedQuery("INSERT INTO model_aliases (model_id, alias, version_id) VALUES ($1, $2, $3) "
                        + "ON CONFLICT (model_id, alias) DO UPDATE SET version_id = EXCLUDED.version_id, updated_at = now()")
                .execute(Tuple.of(modelId, alias, versionId))
                .mapEmpty();
    }

    Future<Boolean> deleteAlias(SqlClient tx, UUID modelId, String alias) {
        return tx.preparedQuery("DELETE FROM model_aliases WHERE model_id = $1 AND alias = $2")
                .execute(Tuple.of(modelId, alias))
                .map(rows -> rows.rowCount() > 0);
    }

    /** The manifest of a version, example included. */
    Future<Optional<JsonObject>> manifest(SqlClient client, UUID versionId) {
        return client.preparedQuery("SELECT v.manifest FROM model_versions v WHERE v.id = $1")
                .execute(Tuple.of(versionId))
                .map(rows -> first(rows).map(r -> (JsonObject) r.getValue(0)));
    }

    /** A version by number or alias, its manifest without the example input ({@link ModelVersion#COLUMNS_NO_EXAMPLE}). */
    Future<Optional<ModelVersion>> resolve(SqlClient client, UUID modelId, String versionOrAlias) {
        return client.preparedQuery("SELECT " + ModelVersion.COLUMNS_NO_EXAMPLE + " FROM model_versions v WHERE v.model_id = $1 AND "
                        + "(v.version = $2 OR v.id = (SELECT a.version_id FROM model_aliases a WHERE a.model_id = $1 AND a.alias = $2))")
                .execute(Tuple.of(modelId, versionOrAlias))
                .map(rows -> first(rows).map(ModelVersion::from));
    }

    static UUID parseUuid(String s) {
        try {
            return s != null && s.length() == 36 ? UUID.fromString(s) : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static Optional<Row> first(RowSet<Row> rows) {
        var it = rows.iterator();
        return it.hasNext() ? Optional.of(it.next()) : Optional.empty();
    }

    static <T> List<T> list(RowSet<Row> rows, Function<Row, T> mapper) {
        List<T> out = new ArrayList<>();
        rows.forEach(r -> out.add(mapper.apply(r)));
        return out;
    }

    /** Deletes a version that is still a draft of the tenant's (nothing refers to one yet); true if it did. */
    Future<Boolean> deleteDraft(SqlClient tx, UUID tenantId, UUID versionId) {
        return tx.preparedQuery("DELETE FROM model_versions v USING models m WHERE v.id = $2 AND v.state = 'draft' "
                        + "AND m.id = v.model_id AND m.tenant_id = $1")
                .execute(Tuple.of(tenantId, versionId))
                .map(rows -> rows.rowCount() > 0);
    }
}
