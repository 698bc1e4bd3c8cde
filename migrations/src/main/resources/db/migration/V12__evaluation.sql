-- Evaluation (issue 18): a tenant runs a model version over a labelled dataset of its own through
-- the serving engine, and the platform measures it. A job is kept as history, like a training job.
-- A publisher's evaluation of its own model on a reference dataset is also published on the
-- model's card, as a platform measurement every buyer sees (platform_measurements).

CREATE TABLE evaluation_jobs (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    model_id           uuid        NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    version_id         uuid        NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
    -- the second version of a comparison (null: a plain evaluation)
    compare_version_id uuid        REFERENCES model_versions (id) ON DELETE CASCADE,
    dataset_id         uuid        REFERENCES datasets (id) ON DELETE SET NULL,
    dataset            jsonb       NOT NULL,
    mapping            jsonb       NOT NULL,
    reference          boolean     NOT NULL DEFAULT false,
    state              text        NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    reason             text,
    progress           jsonb,
    result             jsonb,
    created_by         uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    finished_at        timestamptz,
    CHECK ((state IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
);
CREATE INDEX evaluation_jobs_tenant_idx ON evaluation_jobs (tenant_id, created_at DESC);
CREATE INDEX evaluation_jobs_open_idx ON evaluation_jobs (state) WHERE state IN ('queued', 'running');

-- What the platform measured on a model owner's reference dataset: shown on the model card to
-- everyone who may see the model (the dataset's name, rows and hash, not its rows), and what the
-- catalog sorts by (?sort=metric:accuracy). Written only when the owner's reference job succeeds.
CREATE TABLE platform_measurements (
    evaluation_id  uuid        PRIMARY KEY REFERENCES evaluation_jobs (id) ON DELETE CASCADE,
    tenant_id      uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    model_id       uuid        NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    version_id     uuid        NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
    dataset        jsonb       NOT NULL,
    metrics        jsonb       NOT NULL,
    measured_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_measurements_model_idx ON platform_measurements (model_id, version_id, measured_at DESC);

GRANT SELECT, INSERT, UPDATE, DELETE ON evaluation_jobs, platform_measurements TO mm_app;

ALTER TABLE evaluation_jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY evaluation_jobs_tenant ON evaluation_jobs TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());
-- Readable wherever the model is (the models policy decides), written by the model's owner only.
ALTER TABLE platform_measurements ENABLE ROW LEVEL SECURITY;
CREATE POLICY platform_measurements_read ON platform_measurements FOR SELECT TO mm_app
    USING (EXISTS (SELECT 1 FROM models m WHERE m.id = platform_measurements.model_id));
CREATE POLICY platform_measurements_write ON platform_measurements TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());
