package com.modelmarket.marketplace.catalog;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/**
 * An alias that sends {@code canaryPercent} of its calls to a second version: the alias' own
 * version is the stable side, {@code canary} the other. {@link Stickiness} says what picks a call's
 * side.
 */
public record AliasSplit(UUID modelId, String alias, UUID stableVersionId, String stableVersion, UUID canaryVersionId,
                         String canaryVersion, int canaryPercent, Stickiness stickiness, OffsetDateTime startedAt) {

    /** What a call's side is chosen by. */
    public enum Stickiness {
        /** A stable hash of the caller's tenant and the model: a tenant sees one version throughout the split. */
        TENANT,
        /** A stable hash of the request's id ({@code X-Request-Id}): calls spread evenly, a retry keeps its side. */
        REQUEST;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Optional<Stickiness> parse(String s) {
            for (Stickiness v : values()) {
                if (v.wire().equals(s)) {
                    return Optional.of(v);
                }
            }
            return Optional.empty();
        }
    }

    static final String COLUMNS = "s.model_id, s.alias, a.version_id AS stable_id, sv.version AS stable_version, "
            + "s.canary_version_id, cv.version AS canary_version, s.canary_percent, s.stickiness, s.started_at";

    static AliasSplit from(Row r) {
        return new AliasSplit(r.getUUID("model_id"), r.getString("alias"), r.getUUID("stable_id"), r.getString("stable_version"),
                r.getUUID("canary_version_id"), r.getString("canary_version"), r.getInteger("canary_percent"),
                Stickiness.parse(r.getString("stickiness")).orElseThrow(), r.getOffsetDateTime("started_at"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("alias", alias)
                .put("stickiness", stickiness.wire())
                .put("startedAt", startedAt.toInstant().toString())
                .put("versions", new JsonArray()
                        .add(new JsonObject().put("version", stableVersion).put("role", "stable").put("percent", 100 - canaryPercent))
                        .add(new JsonObject().put("version", canaryVersion).put("role", "canary").put("percent", canaryPercent)));
    }
}
