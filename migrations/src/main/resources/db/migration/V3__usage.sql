-- Metered usage: one row per inference request that reached a model, written in batches by the
-- usage meter. The request id is the primary key, so a replayed record is ignored.
CREATE TABLE usage_records (
    request_id      text        PRIMARY KEY CHECK (length(request_id) BETWEEN 1 AND 128),
    tenant_id       uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    api_key_id      uuid,
    subscription_id uuid,
    model_id        uuid        NOT NULL,
    version_id      uuid        NOT NULL,
    items           int         NOT NULL CHECK (items >= 0),
    compute_nanos   bigint      NOT NULL CHECK (compute_nanos >= 0),
    outcome         text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_records_tenant_model_time_idx ON usage_records (tenant_id, model_id, occurred_at);
CREATE INDEX usage_records_model_time_idx ON usage_records (model_id, occurred_at);
