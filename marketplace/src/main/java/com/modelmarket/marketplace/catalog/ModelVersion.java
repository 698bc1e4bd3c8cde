package com.modelmarket.marketplace.catalog;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** An immutable version of a model: its artifact, manifest, state and what the platform measured. */
public record ModelVersion(UUID id, UUID modelId, UUID tenantId, String version, VersionState state, String artifactSha256,
                           long artifactSize, JsonObject manifest, long loadMillis, long singleLatencyMicros,
                           OffsetDateTime createdAt, OffsetDateTime publishedAt, OffsetDateTime deprecatedAt,
                           OffsetDateTime retiredAt) {

    static final String COLUMNS = "v.id, v.model_id, v.tenant_id, v.version, v.state, v.artifact_sha256, v.artifact_size, "
            + "v.manifest, v.load_millis, v.single_latency_micros, v.created_at, v.published_at, v.deprecated_at, v.retired_at";

    /**
     * {@link #COLUMNS} with the manifest's example input left out: what the inference path needs
     * on every target lookup. An image model's example is megabytes of JSON, which PostgreSQL would
     * otherwise serialise, and the client parse, every time.
     */
    static final String COLUMNS_NO_EXAMPLE = COLUMNS.replace("v.manifest,", "(v.manifest - 'example') AS manifest,");

    static ModelVersion from(Row r) {
        return new ModelVersion(r.getUUID("id"), r.getUUID("model_id"), r.getUUID("tenant_id"), r.getString("version"),
                VersionState.parse(r.getString("state")), r.getString("artifact_sha256"), r.getLong("artifact_size"),
                (JsonObject) r.getValue("manifest"), r.getLong("load_millis"), r.getLong("single_latency_micros"),
                r.getOffsetDateTime("created_at"), r.getOffsetDateTime("published_at"),
                r.getOffsetDateTime("deprecated_at"), r.getOffsetDateTime("retired_at"));
    }

    public boolean serves() {
        return state.serves();
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("version", version)
                .put("state", state.wire())
                .put("artifact", new JsonObject().put("sha256", artifactSha256).put("sizeBytes", artifactSize))
                .put("manifest", manifest)
                .put("measured", new JsonObject().put("artifactSizeBytes", artifactSize).put("loadMillis", loadMillis)
                        .put("singleItemLatencyMicros", singleLatencyMicros))
                .put("createdAt", createdAt.toInstant().toString())
                .put("publishedAt", publishedAt == null ? null : publishedAt.toInstant().toString())
                .put("deprecatedAt", deprecatedAt == null ? null : deprecatedAt.toInstant().toString())
                .put("retiredAt", retiredAt == null ? null : retiredAt.toInstant().toString());
    }
}
