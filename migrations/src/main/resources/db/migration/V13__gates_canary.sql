-- Publish gates and canary traffic splits (issue 18, part 2).
--
-- model_gates: per model, what a version must pass before publishing it moves an alias, or an
-- alias moves to it: schema compatibility with the alias' current version (a breaking change needs
-- a new major version) and metric gates ("accuracy on dataset D no worse than the current
-- version's by more than 0.01"). Only the publishing tenant reads or writes them.
--
-- alias_splits: an alias that, besides its own version (model_aliases.version_id, the stable
-- side), sends canary_percent of its calls to a second version: chosen by a stable hash of the
-- caller's tenant (a tenant keeps its side) or of each request's id. Promoting moves the alias to
-- the canary and ends the split; rolling back ends the split; both in one transaction. Callers that
-- may see the model read the split (the inference path resolves it, as it resolves aliases); only
-- the publisher writes it, and its API answers only the publisher.

CREATE TABLE model_gates (
    model_id      uuid        PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
    tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    schema_check  boolean     NOT NULL DEFAULT true,
    metric_gates  jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(metric_gates) = 'array'),
    updated_by    uuid        REFERENCES users (id) ON DELETE SET NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alias_splits (
    model_id           uuid        NOT NULL,
    alias              text        NOT NULL,
    tenant_id          uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    canary_version_id  uuid        NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
    canary_percent     int         NOT NULL CHECK (canary_percent BETWEEN 1 AND 99),
    stickiness         text        NOT NULL CHECK (stickiness IN ('tenant', 'request')),
    started_by         uuid        REFERENCES users (id) ON DELETE SET NULL,
    started_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_id, alias),
    FOREIGN KEY (model_id, alias) REFERENCES model_aliases (model_id, alias) ON DELETE CASCADE
);
CREATE INDEX alias_splits_canary_idx ON alias_splits (canary_version_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON model_gates, alias_splits TO mm_app;

ALTER TABLE model_gates ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_gates_tenant ON model_gates TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

-- As model_aliases (V5): read where the model is visible, written by its owner only.
ALTER TABLE alias_splits ENABLE ROW LEVEL SECURITY;
CREATE POLICY alias_splits_read ON alias_splits FOR SELECT TO mm_app
    USING (EXISTS (SELECT 1 FROM models m WHERE m.id = alias_splits.model_id));
CREATE POLICY alias_splits_write ON alias_splits TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR (tenant_id = mm_current_tenant()
        AND EXISTS (SELECT 1 FROM models m WHERE m.id = alias_splits.model_id AND m.tenant_id = mm_current_tenant())));
