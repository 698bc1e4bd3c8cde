package com.modelmarket.marketplace.catalog;

import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The publish gates, as the catalog sees them: asked before a version is published into an alias
 * ({@code latest}), before an alias moves, before a split starts and before one is promoted. The
 * gates themselves (their settings, the metrics) live in the {@code gates} package, which builds on
 * the catalog; the catalog only asks this and acts on the verdict.
 */
public interface PublishGuard {

    /** Which gates a change must pass: a split sends only some calls, so it is checked for schema only. */
    enum Scope { ALL, SCHEMA_ONLY }

    /**
     * The verdict on {@code candidate} replacing {@code current} (the version the alias points at
     * now) in the model's alias; {@code owner} is the publishing tenant. Never fails for a failing
     * gate: that is a verdict with failures. Completes off the event loop's budget: measuring a
     * metric runs the dataset through the engine.
     */
    Future<Verdict> check(UUID owner, CatalogModel model, ModelVersion current, ModelVersion candidate, Scope scope);

    /** What the gates found: every gate checked (passed or not) and the failures among them, as JSON-ready maps. */
    record Verdict(List<Map<String, Object>> checked, List<Map<String, Object>> failures) {
        public Verdict {
            checked = List.copyOf(checked);
            failures = List.copyOf(failures);
        }

        public static final Verdict NONE = new Verdict(List.of(), List.of());

        public boolean passed() {
            return failures.isEmpty();
        }
    }

    /** No gates: what a catalog without the gates package (a unit test) uses. */
    PublishGuard NONE = (owner, model, current, candidate, scope) -> Future.succeededFuture(Verdict.NONE);
}
