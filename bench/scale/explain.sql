-- EXPLAIN ANALYZE of the scale bench's slowest requests, with the SQL the application sends (copied from
-- SearchRepository, UsageQueries and InvoiceRepository) and as it runs them: role mm_app (row-level
-- security on) in the scope the service sets. psql variables: heavy (the heaviest consumer's slug),
-- month (the current month's first day, YYYY-MM-DD). Run by bench/scale/run.sh after the wrk points.
\set ON_ERROR_STOP 0
\pset pager off
SELECT id AS heavy_id FROM tenants WHERE slug = :'heavy' \gset
SELECT id AS pub_id FROM tenants WHERE slug = 'pub-00001' \gset
SELECT :'month'::date::timestamp AT TIME ZONE 'UTC' AS m_start, (:'month'::date + interval '1 month')::timestamp AT TIME ZONE 'UTC' AS m_end,
       (:'month'::date - interval '1 month')::timestamp AT TIME ZONE 'UTC' AS p_start \gset
SET ROLE mm_app;

\echo '=== 1. catalog search, relevance, a common term (q=image), first page, anonymous (visitor scope)'
BEGIN;
SELECT set_config('mm.scope', 'visitor', true) \g /dev/null
PREPARE search_text(uuid, text, text, int) AS
SELECT * FROM (SELECT (measured ->> $3::text)::float8 AS metric_key, * FROM (SELECT m.id, m.kind, m.slug, m.name, m.summary, m.task,
 m.tags, m.framework, m.visibility, m.created_at, t.slug AS publisher_slug, t.name AS publisher_name, f.rank,
 m.active_subscribers AS subscribers,
 (SELECT v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.model_id = m.id AND a.alias = 'latest') AS latest_version,
 (SELECT array_agg(DISTINCT p.type ORDER BY p.type) FROM plans p WHERE p.model_id = m.id AND p.archived_at IS NULL) AS price_types,
 (SELECT pm.metrics - 'perClass' - 'confusionMatrix' - 'labels' FROM platform_measurements pm JOIN model_aliases la ON la.model_id = m.id
  AND la.alias = 'latest' AND la.version_id = pm.version_id WHERE pm.model_id = m.id ORDER BY pm.measured_at DESC LIMIT 1) AS measured
 FROM (SELECT f0.id, f0.rank FROM mm_catalog_matches($2::text) f0 ORDER BY f0.rank DESC, f0.id DESC LIMIT $4) f
 JOIN models m ON m.id = f.id JOIN tenants t ON t.id = m.tenant_id WHERE
 ((m.tenant_id = $1::uuid OR ((m.visibility = 'public' OR (m.visibility = 'shared' AND EXISTS (SELECT 1 FROM model_shares s
   WHERE s.model_id = m.id AND s.tenant_id = $1::uuid))) AND (m.kind = 'algorithm' OR m.listed)))
  AND NOT EXISTS (SELECT 1 FROM tenants dt WHERE dt.id = m.tenant_id AND dt.deleted_at IS NOT NULL))) y) x WHERE true
 ORDER BY x.rank DESC, x.id DESC LIMIT $4;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE search_text(NULL, 'image', 'accuracy', 21);
\echo '--- the same, a broad term (q=speech)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE search_text(NULL, 'speech', 'accuracy', 21);
\echo '--- the same, a term in every card (q=model)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE search_text(NULL, 'model', 'accuracy', 21);
COMMIT;

\echo '=== 2. catalog, newest, a keyset page 90 % deep, anonymous'
BEGIN;
SELECT set_config('mm.scope', 'visitor', true) \g /dev/null
SELECT created_at AS deep_at, id AS deep_id FROM models WHERE visibility = 'public' AND (kind = 'algorithm' OR listed)
 ORDER BY created_at DESC, id DESC OFFSET (SELECT (count(*) * 0.9)::int FROM models WHERE visibility = 'public' AND (kind = 'algorithm' OR listed)) LIMIT 1 \gset
SELECT active_subscribers AS pop_n, id AS pop_id FROM models WHERE visibility = 'public' AND (kind = 'algorithm' OR listed)
 ORDER BY active_subscribers DESC, id DESC OFFSET (SELECT (count(*) * 0.9)::int FROM models WHERE visibility = 'public' AND (kind = 'algorithm' OR listed)) LIMIT 1 \gset
PREPARE listing_newest(uuid, text, text, timestamptz, uuid, int) AS
SELECT * FROM (SELECT (measured ->> $3::text)::float8 AS metric_key, * FROM (SELECT m.id, m.kind, m.slug, m.name, m.summary, m.task,
 m.tags, m.framework, m.visibility, m.created_at, t.slug AS publisher_slug, t.name AS publisher_name, 0::real AS rank,
 m.active_subscribers AS subscribers,
 (SELECT v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.model_id = m.id AND a.alias = 'latest') AS latest_version,
 (SELECT array_agg(DISTINCT p.type ORDER BY p.type) FROM plans p WHERE p.model_id = m.id AND p.archived_at IS NULL) AS price_types,
 (SELECT pm.metrics - 'perClass' - 'confusionMatrix' - 'labels' FROM platform_measurements pm JOIN model_aliases la ON la.model_id = m.id
  AND la.alias = 'latest' AND la.version_id = pm.version_id WHERE pm.model_id = m.id ORDER BY pm.measured_at DESC LIMIT 1) AS measured
 FROM models m JOIN tenants t ON t.id = m.tenant_id WHERE
 ((m.tenant_id = $1::uuid OR ((m.visibility = 'public' OR (m.visibility = 'shared' AND EXISTS (SELECT 1 FROM model_shares s
   WHERE s.model_id = m.id AND s.tenant_id = $1::uuid))) AND (m.kind = 'algorithm' OR m.listed)))
  AND NOT EXISTS (SELECT 1 FROM tenants dt WHERE dt.id = m.tenant_id AND dt.deleted_at IS NOT NULL)) AND $2::text IS NULL) y) x
 WHERE true AND (x.created_at, x.id) < ($4, $5) ORDER BY x.created_at DESC, x.id DESC LIMIT $6;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE listing_newest(NULL, NULL, 'accuracy', :'deep_at', :'deep_id', 21);
COMMIT;

\echo '=== 3. the heaviest consumer''s usage summary for the current month (tenant scope)'
BEGIN;
SELECT set_config('mm.scope', 'tenant', true), set_config('mm.tenant_id', :'heavy_id', true) \g /dev/null
PREPARE summary(uuid, timestamptz, timestamptz) AS
WITH cut AS (SELECT DISTINCT g.subscription_id, (b.at AT TIME ZONE 'UTC')::date AS day
 FROM subscription_segments g CROSS JOIN LATERAL (VALUES (g.active_from), (g.active_to)) AS b(at)
 WHERE g.tenant_id = $1 AND b.at >= $2 AND b.at < $3 AND b.at <> date_trunc('day', b.at, 'UTC')),
r AS (SELECT u.day, u.model_id, u.version_id, u.api_key_id, u.outcome, u.calls, u.items, u.compute_nanos, g.plan_id
 FROM usage_daily u LEFT JOIN subscription_segments g ON g.subscription_id = u.subscription_id
  AND g.active_from <= (u.day::timestamp AT TIME ZONE 'UTC')
  AND (g.active_to IS NULL OR g.active_to >= ((u.day + 1)::timestamp AT TIME ZONE 'UTC'))
 WHERE u.tenant_id = $1 AND u.day >= ($2::timestamptz AT TIME ZONE 'UTC')::date AND u.day < ($3::timestamptz AT TIME ZONE 'UTC')::date
  AND NOT EXISTS (SELECT 1 FROM cut WHERE cut.subscription_id = u.subscription_id AND cut.day = u.day)
 UNION ALL SELECT (u.bucket AT TIME ZONE 'UTC')::date, u.model_id, u.version_id, u.api_key_id, u.outcome, u.calls, u.items,
 u.compute_nanos, g.plan_id FROM cut JOIN usage_rollups u ON u.tenant_id = $1 AND u.subscription_id = cut.subscription_id
  AND u.bucket >= (cut.day::timestamp AT TIME ZONE 'UTC') AND u.bucket < ((cut.day + 1)::timestamp AT TIME ZONE 'UTC')
 LEFT JOIN subscription_segments g ON g.subscription_id = u.subscription_id
  AND u.bucket >= g.active_from AND (g.active_to IS NULL OR u.bucket < g.active_to))
SELECT r.day, r.model_id, m.slug, v.version, p.name AS plan_name, r.api_key_id, k.name AS key_name,
 sum(r.calls)::bigint AS calls, coalesce(sum(r.calls) FILTER (WHERE r.outcome = 'success'), 0)::bigint AS billable,
 sum(r.items)::bigint AS items, sum(r.compute_nanos)::bigint AS compute_nanos
FROM r JOIN models m ON m.id = r.model_id LEFT JOIN model_versions v ON v.id = r.version_id
LEFT JOIN api_keys k ON k.id = r.api_key_id LEFT JOIN plans p ON p.id = r.plan_id
GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 3, 4, 7;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE summary(:'heavy_id', :'m_start', :'m_end');
\echo '--- what the same month is in bucket rows (the summary before V18 summed these)'
SELECT count(*) AS bucket_rows, sum(calls) AS calls FROM usage_rollups WHERE tenant_id = :'heavy_id'
 AND bucket >= :'m_start' AND bucket < :'m_end';
SELECT count(*) AS daily_rows, sum(calls) AS calls FROM usage_daily WHERE tenant_id = :'heavy_id'
 AND day >= :'month'::date AND day < (:'month'::date + interval '1 month')::date;

\echo '=== 4. the heaviest consumer''s draft invoice: its rating input for the current month'
PREPARE seg_tenant(timestamptz, timestamptz, uuid) AS
SELECT g.id AS segment_id, g.subscription_id, g.tenant_id, g.active_from, g.active_to, p.id AS plan_id, p.model_id,
 m.tenant_id AS publisher_id, p.type, p.currency, p.monthly_fee_minor, p.included_calls, p.price_per_1000_minor,
 p.rate_limit_per_minute, p.training_per_job_minor, p.training_per_minute_minor, p.training_included_minutes,
 (SELECT count(*) FROM training_usage t WHERE t.subscription_id = g.subscription_id
   AND t.occurred_at >= greatest(g.active_from, $1) AND t.occurred_at < least(coalesce(g.active_to, 'infinity'), $2)) AS jobs,
 (SELECT coalesce(sum(t.compute_millis), 0)::bigint FROM training_usage t WHERE t.subscription_id = g.subscription_id
   AND t.occurred_at >= greatest(g.active_from, $1) AND t.occurred_at < least(coalesce(g.active_to, 'infinity'), $2)) AS training_millis,
 uc.calls
FROM subscription_segments g JOIN plans p ON p.id = g.plan_id JOIN models m ON m.id = p.model_id
CROSS JOIN LATERAL mm_usage_calls(g.subscription_id, 'success', greatest(g.active_from, $1), least(coalesce(g.active_to, 'infinity'), $2)) uc
WHERE g.active_from < $2 AND (g.active_to IS NULL OR g.active_to > $1) AND (g.active_to IS NULL OR g.active_to > g.active_from) AND g.tenant_id = $3;
PREPARE seg_publisher(timestamptz, timestamptz, uuid) AS
WITH publisher_plans AS MATERIALIZED (SELECT pp.id FROM models pm JOIN plans pp ON pp.model_id = pm.id WHERE pm.tenant_id = $3)
SELECT g.id AS segment_id, g.subscription_id, g.tenant_id, g.active_from, g.active_to, p.id AS plan_id, p.model_id,
 m.tenant_id AS publisher_id, p.type, p.currency, p.monthly_fee_minor, p.included_calls, p.price_per_1000_minor,
 p.rate_limit_per_minute, p.training_per_job_minor, p.training_per_minute_minor, p.training_included_minutes,
 (SELECT count(*) FROM training_usage t WHERE t.subscription_id = g.subscription_id
   AND t.occurred_at >= greatest(g.active_from, $1) AND t.occurred_at < least(coalesce(g.active_to, 'infinity'), $2)) AS jobs,
 (SELECT coalesce(sum(t.compute_millis), 0)::bigint FROM training_usage t WHERE t.subscription_id = g.subscription_id
   AND t.occurred_at >= greatest(g.active_from, $1) AND t.occurred_at < least(coalesce(g.active_to, 'infinity'), $2)) AS training_millis,
 uc.calls
FROM publisher_plans pl JOIN subscription_segments g ON g.plan_id = pl.id JOIN plans p ON p.id = g.plan_id JOIN models m ON m.id = p.model_id
CROSS JOIN LATERAL mm_usage_calls(g.subscription_id, 'success', greatest(g.active_from, $1), least(coalesce(g.active_to, 'infinity'), $2)) uc
WHERE g.active_from < $2 AND (g.active_to IS NULL OR g.active_to > $1) AND (g.active_to IS NULL OR g.active_to > g.active_from) AND m.tenant_id = $3;
PREPARE seg_all(timestamptz, timestamptz) AS
SELECT g.id AS segment_id, g.subscription_id, g.tenant_id, g.active_from, g.active_to, p.id AS plan_id, p.model_id,
 m.tenant_id AS publisher_id, p.type, p.currency, p.monthly_fee_minor, p.included_calls, p.price_per_1000_minor,
 p.rate_limit_per_minute, p.training_per_job_minor, p.training_per_minute_minor, p.training_included_minutes,
 (SELECT count(*) FROM training_usage t WHERE t.subscription_id = g.subscription_id
   AND t.occurred_at >= greatest(g.active_from, $1) AND t.occurred_at < least(coalesce(g.active_to, 'infinity'), $2)) AS jobs,
 (SELECT coalesce(sum(t.compute_millis), 0)::bigint FROM training_usage t WHERE t.subscription_id = g.subscription_id
   AND t.occurred_at >= greatest(g.active_from, $1) AND t.occurred_at < least(coalesce(g.active_to, 'infinity'), $2)) AS training_millis,
 uc.calls
FROM subscription_segments g JOIN plans p ON p.id = g.plan_id JOIN models m ON m.id = p.model_id
CROSS JOIN LATERAL mm_usage_calls(g.subscription_id, 'success', greatest(g.active_from, $1), least(coalesce(g.active_to, 'infinity'), $2)) uc
WHERE g.active_from < $2 AND (g.active_to IS NULL OR g.active_to > $1) AND (g.active_to IS NULL OR g.active_to > g.active_from) ;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE seg_tenant(:'m_start', :'m_end', :'heavy_id');
COMMIT;

\echo '=== 5. closing last month: the rating input of every tenant (system scope)'
BEGIN;
SELECT set_config('mm.scope', 'system', true) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS) EXECUTE seg_all(:'p_start', :'m_start');
\echo '=== 6. pub-00001''s draft earnings: the rating input of its models'' subscribers (system scope)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE seg_publisher(:'m_start', :'m_end', :'pub_id');
COMMIT;
