-- Free plans' monthly caps, exact across API nodes (issue 19): one counter per tenant, model and
-- UTC month, seeded from the month's stored usage and then taken one call at a time with a
-- conditional UPDATE (the row lock serialises nodes). Used only when cluster.enabled=true; a single
-- node keeps its in-memory count. No foreign keys, like the usage tables (V8): counters outlive
-- nothing they describe, and a deleted tenant's rows are harmless.
CREATE TABLE free_quota_counters (
    tenant_id uuid   NOT NULL,
    model_id  uuid   NOT NULL,
    month     date   NOT NULL,
    used      bigint NOT NULL CHECK (used >= 0),
    PRIMARY KEY (tenant_id, model_id, month)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON free_quota_counters TO mm_app;

ALTER TABLE free_quota_counters ENABLE ROW LEVEL SECURITY;
CREATE POLICY free_quota_counters_tenant ON free_quota_counters TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());
