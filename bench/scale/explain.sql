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
-- The catalog's plans (V21): the page query the application sends (SearchRepository.listing), and,
-- logged by auto_explain as NOTICEs, the plan of the query mm_catalog_page runs inside (its page).
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_buffers = on;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = notice;
-- cursors: the last page of q=image but one match, and a newest page 90 % deep
SELECT 1::real AS img_k, model_id AS img_id FROM catalog_search s WHERE NOT s.publisher_gone AND s.open AND s.visibility = 'public'
 AND s.card_vector @@ 'imag'::tsquery AND NOT s.name_vector @@ 'imag'::tsquery ORDER BY model_id ASC OFFSET 1 LIMIT 1 \gset
SELECT created_at AS deep_at, model_id AS deep_id FROM catalog_search WHERE visibility = 'public' AND open AND NOT publisher_gone
 ORDER BY created_at DESC, model_id DESC OFFSET (SELECT (count(*) * 0.9)::int FROM catalog_search WHERE visibility = 'public' AND open) LIMIT 1 \gset
SET ROLE mm_app;
PREPARE page(uuid, text, text, text, uuid, int, text, text, text, text, text, text) AS
SELECT m.id, m.kind, m.slug, m.name, m.summary, m.task, m.tags, m.framework, m.visibility, m.created_at,
 t.slug AS publisher_slug, t.name AS publisher_name, m.active_subscribers AS subscribers,
 (SELECT v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.model_id = m.id AND a.alias = 'latest') AS latest_version,
 (SELECT array_agg(DISTINCT p.type ORDER BY p.type) FROM plans p WHERE p.model_id = m.id AND p.archived_at IS NULL) AS price_types, f.rank,
 (SELECT pm.metrics - 'perClass' - 'confusionMatrix' - 'labels' FROM platform_measurements pm JOIN model_aliases la ON la.model_id = m.id
  AND la.alias = 'latest' AND la.version_id = pm.version_id WHERE pm.model_id = m.id ORDER BY pm.measured_at DESC LIMIT 1) AS measured
 FROM mm_catalog_page($2::text, $3::text, $4::text, $5::uuid, $6::int, $7::text, $8::text, $9::text, $10::text, $11::text, $12::text) f
 JOIN models m ON m.id = f.id JOIN tenants t ON t.id = m.tenant_id WHERE
 ((m.tenant_id = $1::uuid OR ((m.visibility = 'public' OR (m.visibility = 'shared' AND EXISTS (SELECT 1 FROM model_shares s
   WHERE s.model_id = m.id AND s.tenant_id = $1::uuid))) AND (m.kind = 'algorithm' OR m.listed)))
  AND NOT EXISTS (SELECT 1 FROM tenants dt WHERE dt.id = m.tenant_id AND dt.deleted_at IS NOT NULL))
 ORDER BY f.rank DESC, m.id DESC LIMIT $6;

\echo '=== 1. catalog search, relevance, anonymous (visitor scope): a common term (q=image), first page'
BEGIN;
SELECT set_config('mm.scope', 'visitor', true) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page(NULL, 'image', 'relevance', NULL, NULL, 21, NULL, NULL, NULL, NULL, NULL, NULL);
\echo '--- a broad term (q=speech)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page(NULL, 'speech', 'relevance', NULL, NULL, 21, NULL, NULL, NULL, NULL, NULL, NULL);
\echo '--- terms in every card (q=trained model)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page(NULL, 'trained model', 'relevance', NULL, NULL, 21, NULL, NULL, NULL, NULL, NULL, NULL);
\echo '--- two terms that no card has together (q=fraud detection)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page(NULL, 'fraud detection', 'relevance', NULL, NULL, 21, NULL, NULL, NULL, NULL, NULL, NULL);
\echo '--- the last page of q=image (the cursor at its last match but one: tier 0 looked at)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page(NULL, 'image', 'relevance', :'img_k', :'img_id', 21, NULL, NULL, NULL, NULL, NULL, NULL);
\echo '--- newest first with a text (sort=newest&q=speech)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page(NULL, 'speech', 'newest', NULL, NULL, 21, NULL, NULL, NULL, NULL, NULL, NULL);
\echo '--- filters (publisher=pub-00042; q=speech&publisher=pub-00001; tag=medical&sort=popular)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page(NULL, NULL, 'newest', NULL, NULL, 21, NULL, NULL, 'pub-00042', NULL, NULL, NULL);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page(NULL, 'speech', 'relevance', NULL, NULL, 21, NULL, NULL, 'pub-00001', NULL, NULL, NULL);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page(NULL, NULL, 'popular', NULL, NULL, 21, NULL, 'medical', NULL, NULL, NULL, NULL);
COMMIT;

\echo '=== 2. catalog, newest, a keyset page 90 % deep, anonymous'
BEGIN;
SELECT set_config('mm.scope', 'visitor', true) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page(NULL, NULL, 'newest', :'deep_at', :'deep_id', 21, NULL, NULL, NULL, NULL, NULL, NULL);
COMMIT;
RESET ROLE;
SET auto_explain.log_min_duration = -1;
SET ROLE mm_app;

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
