-- The catalog at 100,000 models (issue 20, bench/scale/RESULTS.md).
--
-- 1. Whether a model has a version in service (published or deprecated) was an EXISTS over
--    model_versions in every search and model page. Under row-level security that subquery is
--    planned as a hashed subplan: each search read every row of model_versions, each checked against
--    its policy, itself a hashed scan of models. models.listed keeps the answer on the model's row,
--    recomputed by a trigger whenever a version is added, changes state or goes.
-- 2. sort=popular ordered by mm_active_subscribers(id), a count per model: every page counted the
--    subscribers of every visible model. models.active_subscribers is kept by a trigger on
--    subscriptions (+1/-1 per row that becomes or stops being active), so popular pages are an index
--    scan in key order, deep keyset pages included.
-- 3. Full-text search: tsvector @@ tsquery (ts_match_vq) is not leakproof, so under the models policy
--    PostgreSQL may not evaluate it in an index scan ahead of the policy: every search read all
--    models. mm_catalog_matches runs the match as the owner (the GIN index applies) and returns only
--    models the current scope may list -- the rule of CatalogRepository.VISIBLE: its own, or listed
--    and public or shared with it, of a publisher not deleted -- with their rank; the search joins
--    models (policy still applied) on what it returns.
-- 4. A search for a broad term ranks thousands of matches, and ranking read each match's whole search
--    vector (description included: ~1.2 KB) and its wide row. Ranks now come from rank_vector, the
--    card's name (weight A), tags and summary (B): small, kept inline (storage MAIN), while the long
--    description and the full vector, which only the GIN index needs, leave the row for TOAST
--    (toast_tuple_target), so a match costs a visit of a narrow row. A match in the description alone
--    still finds the model, ranked after every match in its name, tags or summary (rank 0).
-- Both columns are written only by these triggers (and the back-fill below); tests check them against
-- the counts they replace.

ALTER TABLE models
    ADD COLUMN listed boolean NOT NULL DEFAULT false,
    ADD COLUMN active_subscribers bigint NOT NULL DEFAULT 0 CHECK (active_subscribers >= 0);

UPDATE models m SET
    listed = EXISTS (SELECT 1 FROM model_versions v WHERE v.model_id = m.id AND v.state IN ('published', 'deprecated')),
    active_subscribers = (SELECT count(*) FROM subscriptions s WHERE s.model_id = m.id AND s.status = 'active');

ALTER TABLE models SET (toast_tuple_target = 256);
ALTER TABLE models ADD COLUMN rank_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', name), 'A')
    || setweight(to_tsvector('english', mm_tags_text(tags)), 'B')
    || setweight(to_tsvector('english', summary), 'B')) STORED;
ALTER TABLE models ALTER COLUMN rank_vector SET STORAGE MAIN;

-- Recomputed rather than counted: the model's row is locked first, so a concurrent version change of
-- the same model waits, and the EXISTS (a statement of its own, with a fresh snapshot) sees it.
CREATE FUNCTION mm_refresh_listed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    model uuid;
BEGIN
    FOREACH model IN ARRAY (CASE TG_OP
            WHEN 'INSERT' THEN ARRAY[NEW.model_id]
            WHEN 'DELETE' THEN ARRAY[OLD.model_id]
            ELSE ARRAY[OLD.model_id, NEW.model_id] END) LOOP
        PERFORM 1 FROM public.models WHERE id = model FOR UPDATE;
        UPDATE public.models m SET listed = l.now_listed
        FROM (SELECT EXISTS (SELECT 1 FROM public.model_versions v WHERE v.model_id = model
                             AND v.state IN ('published', 'deprecated')) AS now_listed) l
        WHERE m.id = model AND m.listed IS DISTINCT FROM l.now_listed;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER model_versions_listed AFTER INSERT OR DELETE OR UPDATE OF state, model_id ON model_versions
    FOR EACH ROW EXECUTE FUNCTION mm_refresh_listed();

-- +1 / -1: an UPDATE of the counter takes the row lock, so concurrent subscriptions add up.
CREATE FUNCTION mm_count_subscribers() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active' THEN
        UPDATE public.models SET active_subscribers = active_subscribers - 1 WHERE id = OLD.model_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'active' THEN
        UPDATE public.models SET active_subscribers = active_subscribers + 1 WHERE id = NEW.model_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER subscriptions_count AFTER INSERT OR DELETE OR UPDATE OF status, model_id ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION mm_count_subscribers();

-- The public face of the count; mm_active_subscribers stays for callers of earlier versions.
CREATE OR REPLACE FUNCTION mm_active_subscribers(model uuid) RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT active_subscribers FROM public.models m WHERE m.id = model $$;

-- Keyset orders of the listing (the keys are compared as rows: (key, id) < (cursor key, cursor id)).
CREATE INDEX models_popular_idx ON models (active_subscribers DESC, id DESC);

CREATE FUNCTION mm_catalog_matches(query text) RETURNS TABLE (id uuid, rank real)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT m.id, ts_rank(m.rank_vector, q.q)
    FROM public.models m, websearch_to_tsquery('english', query) AS q(q)
    WHERE m.search @@ q.q
      AND public.mm_scoped()
      AND (m.tenant_id = public.mm_current_tenant()
           OR ((m.kind = 'algorithm' OR m.listed) AND (m.visibility = 'public'
                             OR (m.visibility = 'shared' AND public.mm_shared_with_current(m.id)))))
      AND NOT EXISTS (SELECT 1 FROM public.tenants d WHERE d.id = m.tenant_id AND d.deleted_at IS NOT NULL)
$$;
REVOKE ALL ON FUNCTION mm_catalog_matches(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mm_catalog_matches(text) TO mm_app;
