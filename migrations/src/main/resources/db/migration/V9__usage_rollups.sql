-- Usage kept as rollups per time bucket (a minute by default) instead of one row per call.
--
-- One row per call cost PostgreSQL a heap tuple and three index entries (the request-id key and two
-- lookups), which at saturation took about a fifth of the core that serves inference. The usage meter
-- now delivers usage as group commits (billing's UsageCommit: the records of one journal frame under
-- an id drawn when the commit was made and kept with it in the journal), and the sink writes, in one
-- statement, one row per commit and tenant into usage_commits and the commit's calls added into
-- usage_rollups. A commit id already in usage_commits adds nothing, so a commit delivered twice (a write that timed
-- out but landed, a replayed journal file) counts once, and so does every call in it.
--
-- Every query of usage (a tenant's summary, a free plan's month, invoices and earnings) reads the
-- rollups. They are exact for periods that start and end on bucket boundaries, and every period the
-- platform bills or reports does: UTC days and months, short test periods (whose day must be a
-- multiple of the bucket), and subscription segments, whose boundaries are rounded to buckets from
-- now on (SubscriptionRepository). The bucket is metering.rollup-seconds (60 by default, a divisor
-- of a day); bucket is the start of the bucket a call fell in.

-- Calls added up per (tenant, model, version, subscription, API key, outcome, bucket).
CREATE TABLE usage_rollups (
    tenant_id       uuid        NOT NULL,
    model_id        uuid        NOT NULL,
    version_id      uuid        NOT NULL,
    subscription_id uuid,
    api_key_id      uuid,
    outcome         text        NOT NULL,
    bucket          timestamptz NOT NULL,
    calls           bigint      NOT NULL CHECK (calls >= 0),
    items           bigint      NOT NULL CHECK (items >= 0),
    compute_nanos   bigint      NOT NULL CHECK (compute_nanos >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- The key the sink adds into (ON CONFLICT names the same expressions). A missing subscription (one's
-- own model) or key (a user's token) is the nil UUID in the key, so that NULLs compare equal on any
-- PostgreSQL version (NULLS NOT DISTINCT needs 15).
CREATE UNIQUE INDEX usage_rollups_key ON usage_rollups (tenant_id, model_id, version_id,
    (coalesce(subscription_id, '00000000-0000-0000-0000-000000000000'::uuid)),
    (coalesce(api_key_id, '00000000-0000-0000-0000-000000000000'::uuid)), outcome, bucket);
CREATE INDEX usage_rollups_tenant_time_idx ON usage_rollups (tenant_id, bucket);
CREATE INDEX usage_rollups_subscription_time_idx ON usage_rollups (subscription_id, bucket) WHERE subscription_id IS NOT NULL;
CREATE INDEX usage_rollups_model_time_idx ON usage_rollups (model_id, bucket);

-- One row per group commit and tenant the sink has: what makes delivery idempotent (a commit's rows
-- are written in one statement, so either all of them are here or none), and a compact log of which
-- of the tenant's requests were counted (their request ids, one a line), for audits and for the
-- tests that check metered == served call by call.
CREATE TABLE usage_commits (
    commit_id    uuid        NOT NULL,
    tenant_id    uuid        NOT NULL,
    records      int         NOT NULL CHECK (records > 0),
    request_ids  text        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (commit_id, tenant_id)
);
CREATE INDEX usage_commits_tenant_time_idx ON usage_commits (tenant_id, recorded_at);

-- The per-call table of earlier versions stays, renamed, for one purpose: journal files written by an
-- earlier version (replayed after an upgrade) hold records without a commit id; the sink inserts
-- those here by request id, skipping any already present, and adds only the new ones to the rollups.
ALTER TABLE usage_records RENAME TO usage_records_v1;
ALTER INDEX usage_records_pkey RENAME TO usage_records_v1_pkey;
DROP INDEX IF EXISTS usage_records_tenant_model_time_idx;
DROP INDEX IF EXISTS usage_records_model_time_idx;

-- What earlier versions metered, as rollups of a minute (the default bucket).
INSERT INTO usage_rollups (tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, bucket, calls, items, compute_nanos)
SELECT tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, date_trunc('minute', occurred_at),
       count(*), sum(items), sum(compute_nanos)
FROM usage_records_v1
GROUP BY tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, date_trunc('minute', occurred_at);

-- Subscription segments on whole minutes (the default bucket, which the rollups split exactly): a start rounds down,
-- an end rounds up when no segment of the same subscription starts there (a cancellation), down
-- otherwise (a plan change, where the next segment starts on the same minute).
UPDATE subscription_segments g SET active_to = CASE
        WHEN EXISTS (SELECT 1 FROM subscription_segments n WHERE n.subscription_id = g.subscription_id AND n.active_from = g.active_to)
            THEN date_trunc('minute', g.active_to)
        ELSE date_trunc('minute', g.active_to + interval '1 minute' - interval '1 microsecond') END
    WHERE g.active_to IS NOT NULL;
UPDATE subscription_segments SET active_from = date_trunc('minute', active_from);

GRANT SELECT, INSERT, UPDATE, DELETE ON usage_rollups, usage_commits TO mm_app;

ALTER TABLE usage_rollups ENABLE ROW LEVEL SECURITY;
CREATE POLICY usage_rollups_tenant ON usage_rollups TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());
ALTER TABLE usage_commits ENABLE ROW LEVEL SECURITY;
CREATE POLICY usage_commits_tenant ON usage_commits TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());
