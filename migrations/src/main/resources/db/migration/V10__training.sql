-- Training: a tenant's datasets and its training jobs (issue 17).
--
-- A dataset is a CSV the tenant uploaded (through /api/v1/uploads; the bytes stay in the shared,
-- content-addressed store, the row says whose it is) and parsed once: its shape, per-column
-- statistics and label classes. A training job runs an algorithm's recipe on one dataset and, when
-- it succeeds, creates a private model version in the tenant; jobs are kept, as their history.

CREATE TABLE datasets (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    sha256        text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes    bigint      NOT NULL CHECK (size_bytes >= 0),
    task          text        NOT NULL CHECK (task IN ('classification', 'regression')),
    label_column  text        NOT NULL,
    row_count     int         NOT NULL CHECK (row_count > 0),
    summary       jsonb       NOT NULL,
    created_by    uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX datasets_tenant_idx ON datasets (tenant_id, created_at DESC);

CREATE TABLE training_jobs (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    algorithm_id       uuid        NOT NULL REFERENCES models (id),
    subscription_id    uuid        REFERENCES subscriptions (id),
    dataset_id         uuid        REFERENCES datasets (id) ON DELETE SET NULL,
    recipe             jsonb       NOT NULL,
    hyperparameters    jsonb       NOT NULL,
    target_slug        text        NOT NULL,
    target_version     text        NOT NULL,
    state              text        NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    reason             text,
    progress           jsonb,
    curve              jsonb       NOT NULL DEFAULT '[]',
    result             jsonb,
    result_model_id    uuid        REFERENCES models (id) ON DELETE SET NULL,
    result_version_id  uuid        REFERENCES model_versions (id) ON DELETE SET NULL,
    created_by         uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    finished_at        timestamptz,
    CHECK ((state IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
);
CREATE INDEX training_jobs_tenant_idx ON training_jobs (tenant_id, created_at DESC);
CREATE INDEX training_jobs_open_idx ON training_jobs (state) WHERE state IN ('queued', 'running');

GRANT SELECT, INSERT, UPDATE, DELETE ON datasets, training_jobs TO mm_app;

ALTER TABLE datasets ENABLE ROW LEVEL SECURITY;
CREATE POLICY datasets_tenant ON datasets TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());
ALTER TABLE training_jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY training_jobs_tenant ON training_jobs TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());
