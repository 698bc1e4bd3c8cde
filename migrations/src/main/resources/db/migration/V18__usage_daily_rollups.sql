-- Usage per UTC day, kept beside the per-bucket rollups (issue 20, bench/scale/RESULTS.md).
--
-- At 20 million metered calls a month's usage of a busy tenant is tens of thousands of minute rows:
-- its usage summary, its quotas, its draft invoice and every tenant's share of a period close summed
-- them one by one. usage_daily holds the same calls added up per (tenant, model, version,
-- subscription, API key, outcome, UTC day). The usage sink adds each commit into both tables in the
-- one statement that records the commit in usage_commits (PgUsageSink), so a commit counts once in
-- each or in neither, and the two always agree: a day's row is the sum of that day's bucket rows.
--
-- Readers take whole days from usage_daily and only the partial days at the edges of a range from
-- usage_rollups (mm_usage_calls below; UsageQueries for the summary, whose plan can change inside a
-- day), so every sum stays exact for any range on bucket boundaries.

CREATE TABLE usage_daily (
    tenant_id       uuid        NOT NULL,
    model_id        uuid        NOT NULL,
    version_id      uuid        NOT NULL,
    subscription_id uuid,
    api_key_id      uuid,
    outcome         text        NOT NULL,
    day             date        NOT NULL,
    calls           bigint      NOT NULL CHECK (calls >= 0),
    items           bigint      NOT NULL CHECK (items >= 0),
    compute_nanos   bigint      NOT NULL CHECK (compute_nanos >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- The key the sink adds into, as usage_rollups_key (V9): a missing subscription or key is the nil UUID.
CREATE UNIQUE INDEX usage_daily_key ON usage_daily (tenant_id, model_id, version_id,
    (coalesce(subscription_id, '00000000-0000-0000-0000-000000000000'::uuid)),
    (coalesce(api_key_id, '00000000-0000-0000-0000-000000000000'::uuid)), outcome, day);
CREATE INDEX usage_daily_tenant_day_idx ON usage_daily (tenant_id, day);
CREATE INDEX usage_daily_subscription_day_idx ON usage_daily (subscription_id, day) WHERE subscription_id IS NOT NULL;

INSERT INTO usage_daily (tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, day, calls, items, compute_nanos)
SELECT tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, (bucket AT TIME ZONE 'UTC')::date,
       sum(calls), sum(items), sum(compute_nanos)
FROM usage_rollups
GROUP BY tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, (bucket AT TIME ZONE 'UTC')::date;

GRANT SELECT, INSERT, UPDATE, DELETE ON usage_daily TO mm_app;
ALTER TABLE usage_daily ENABLE ROW LEVEL SECURITY;
CREATE POLICY usage_daily_tenant ON usage_daily TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

-- The start of the first whole UTC day at or after t, and the start of the UTC day t falls in.
CREATE FUNCTION mm_day_ceil(t timestamptz) RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN t = date_trunc('day', t, 'UTC') THEN t ELSE date_trunc('day', t, 'UTC') + interval '24 hours' END $$;

-- Calls of a subscription with an outcome in [lo, hi) (bucket boundaries): the whole days in between
-- from usage_daily, the part before the first and after the last whole day from usage_rollups (most
-- ranges, a month or a segment from midnight, have no such part: those sums are skipped). Invoker's
-- rights: row-level security applies to both tables as to any query of the caller. A one-row table
-- function, not a scalar one: PostgreSQL inlines it into the caller's query (LATERAL), where a scalar
-- SQL function with subqueries would be called, at a quarter of a millisecond, for each of the 50,000
-- segments a period close rates. The bounds are computed once in a fenced subquery (OFFSET 0), so
-- each sum compares the bucket or day with plain values, which bound its index scan on both sides.
CREATE FUNCTION mm_usage_calls(subscription uuid, wanted_outcome text, lo timestamptz, hi timestamptz)
    RETURNS TABLE (calls bigint) LANGUAGE sql STABLE AS $$
    SELECT (CASE WHEN b.range_from >= b.range_to THEN 0 ELSE
        (CASE WHEN b.range_from < b.head_to THEN coalesce((SELECT sum(u.calls) FROM usage_rollups u
              WHERE u.subscription_id = subscription AND u.outcome = wanted_outcome
              AND u.bucket >= b.range_from AND u.bucket < b.head_to), 0) ELSE 0 END)
      + (CASE WHEN b.first_day < b.end_day THEN coalesce((SELECT sum(d.calls) FROM usage_daily d
              WHERE d.subscription_id = subscription AND d.outcome = wanted_outcome
              AND d.day >= b.first_day AND d.day < b.end_day), 0) ELSE 0 END)
      + (CASE WHEN b.tail_from < b.range_to THEN coalesce((SELECT sum(u.calls) FROM usage_rollups u
              WHERE u.subscription_id = subscription AND u.outcome = wanted_outcome
              AND u.bucket >= b.tail_from AND u.bucket < b.range_to), 0) ELSE 0 END)
    END)::bigint
    FROM (SELECT lo AS range_from, hi AS range_to, least(hi, mm_day_ceil(lo)) AS head_to,
                 (mm_day_ceil(lo) AT TIME ZONE 'UTC')::date AS first_day,
                 (date_trunc('day', hi, 'UTC') AT TIME ZONE 'UTC')::date AS end_day,
                 greatest(lo, mm_day_ceil(lo), date_trunc('day', hi, 'UTC')) AS tail_from OFFSET 0) b $$;
