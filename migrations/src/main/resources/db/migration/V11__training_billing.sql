-- Training is billed (issue 17): an algorithm's plans price its training jobs, each job that succeeds
-- is metered once by its id, and invoice lines carry the training part of their amount.

ALTER TABLE plans
    ADD COLUMN training_per_job_minor    bigint NOT NULL DEFAULT 0 CHECK (training_per_job_minor >= 0),
    ADD COLUMN training_per_minute_minor bigint NOT NULL DEFAULT 0 CHECK (training_per_minute_minor >= 0),
    ADD COLUMN training_included_minutes bigint NOT NULL DEFAULT 0 CHECK (training_included_minutes >= 0);
-- A pay-as-you-go plan prices calls, or (an algorithm's) training; a free plan charges nothing for
-- training (its included minutes are a cap), a pay-as-you-go one includes no training minutes.
-- V2's pay-as-you-go check has a generated name: found by what it says, not by that name.
DO $$
DECLARE
    old text;
BEGIN
    SELECT conname INTO STRICT old FROM pg_constraint
    WHERE conrelid = 'plans'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%(price_per_1000_minor > 0)%';
    EXECUTE format('ALTER TABLE plans DROP CONSTRAINT %I', old);
END $$;
ALTER TABLE plans ADD CONSTRAINT plans_pay_as_you_go_check CHECK (type <> 'pay_as_you_go' OR (monthly_fee_minor = 0
    AND included_calls = 0 AND training_included_minutes = 0
    AND (price_per_1000_minor > 0 OR training_per_job_minor > 0 OR training_per_minute_minor > 0)));
ALTER TABLE plans ADD CONSTRAINT plans_free_training_check CHECK (type <> 'free' OR (training_per_job_minor = 0
    AND training_per_minute_minor = 0));

-- One row per training job that succeeded: the job id is the key, so a job is metered once however
-- often its end is recorded. subscription_id is the algorithm subscription the job ran under (null
-- for a tenant's own algorithm, which nobody bills).
CREATE TABLE training_usage (
    job_id          uuid        PRIMARY KEY REFERENCES training_jobs (id) ON DELETE CASCADE,
    tenant_id       uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    algorithm_id    uuid        NOT NULL,
    subscription_id uuid,
    compute_millis  bigint      NOT NULL CHECK (compute_millis >= 0),
    occurred_at     timestamptz NOT NULL
);
CREATE INDEX training_usage_subscription_time_idx ON training_usage (subscription_id, occurred_at) WHERE subscription_id IS NOT NULL;
CREATE INDEX training_usage_tenant_time_idx ON training_usage (tenant_id, occurred_at);

ALTER TABLE invoice_lines
    ADD COLUMN training_jobs           bigint NOT NULL DEFAULT 0,
    ADD COLUMN training_compute_millis bigint NOT NULL DEFAULT 0,
    ADD COLUMN training_minor          bigint NOT NULL DEFAULT 0;

GRANT SELECT, INSERT, UPDATE, DELETE ON training_usage TO mm_app;
ALTER TABLE training_usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY training_usage_tenant ON training_usage TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());
