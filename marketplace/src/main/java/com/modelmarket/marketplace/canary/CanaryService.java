package com.modelmarket.marketplace.canary;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.catalog.AliasSplit;
import com.modelmarket.marketplace.catalog.GateOverride;
import com.modelmarket.marketplace.catalog.SplitService;
import com.modelmarket.marketplace.errors.NotFoundException;
import com.modelmarket.marketplace.inference.SplitTraffic;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The publisher console's view of a canary: the alias' split (catalog) beside each side's live
 * figures on this node (inference). Starting a split with a new canary starts both sides' figures
 * from zero; promote and roll back are the catalog's, atomic.
 */
public final class CanaryService {

    private final SplitService splits;
    private final SplitTraffic traffic;

    public CanaryService(SplitService splits, SplitTraffic traffic) {
        this.splits = splits;
        this.traffic = traffic;
    }

    public Future<JsonObject> view(Actor actor, String model, String alias) {
        return splits.get(actor, model, alias).map(this::withFigures);
    }

    public Future<JsonObject> start(Actor actor, String model, String alias, SplitService.SplitRequest request) {
        return splits.get(actor, model, alias).map(Optional::of)
                .recover(err -> err instanceof NotFoundException ? Future.succeededFuture(Optional.<AliasSplit>empty())
                        : Future.failedFuture(err))
                .compose(before -> splits.start(actor, model, alias, request).map(after -> {
                    if (before.isEmpty() || !before.get().canaryVersionId().equals(after.canaryVersionId())
                            || !before.get().stableVersionId().equals(after.stableVersionId())) {
                        traffic.reset(after.stableVersionId());
                        traffic.reset(after.canaryVersionId());
                    }
                    return withFigures(after);
                }));
    }

    public Future<Map<String, String>> promote(Actor actor, String model, String alias, Optional<GateOverride> override) {
        return splits.promote(actor, model, alias, override);
    }

    public Future<Void> rollBack(Actor actor, String model, String alias) {
        return splits.rollBack(actor, model, alias);
    }

    private JsonObject withFigures(AliasSplit split) {
        JsonObject json = split.toJson();
        JsonArray versions = json.getJsonArray("versions");
        figures(versions.getJsonObject(0), split.stableVersionId());
        figures(versions.getJsonObject(1), split.canaryVersionId());
        return json;
    }

    private void figures(JsonObject side, UUID versionId) {
        SplitTraffic.Snapshot s = traffic.snapshot(versionId);
        side.put("requests", s.requests()).put("errors", s.errors())
                .put("errorRate", s.requests() == 0 ? null : (double) s.errors() / s.requests())
                .put("p50Micros", s.p50Micros()).put("p99Micros", s.p99Micros())
                .put("labelled", s.labelled()).put("correct", s.correct())
                .put("accuracy", s.labelled() == 0 ? null : s.accuracy());
    }
}
