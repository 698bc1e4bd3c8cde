-- Catalog search at 100,000 models (issue 20, docs/benchmarks.md Scenario 8).
--
-- Measured at scale 1.0 (V17): a full-text match cost ~10 us per matching model, mostly the visit of
-- its ~1.9 kB models row (188 MB of heap, more than shared_buffers), and every match was ranked
-- (ts_rank) before the page was cut; filters joined every match before the page was cut. A term in a
-- quarter of the cards took 350 ms, one in every card 560 ms, a filtered listing up to 300 ms.
--
-- 1. catalog_search: one narrow row per model (about 490 bytes: 48 MB at 100,000 models) with what a listing needs to choose and order a page
--    (the visibility facts, the filter columns, the order keys, the name's and the card's search
--    vectors), kept by triggers on models and tenants in the same transaction as the change. It is
--    read only by the SECURITY DEFINER function below (no grant, row-level security on and no policy
--    for mm_app), so it is no second way into another tenant's models.
-- 2. Relevance is a tier, not ts_rank: 2 when the name alone satisfies the query, 1 when name, tags
--    and summary do (models.rank_vector), 0 when only the whole card (description included,
--    models.search) does; ties broken by id, descending (docs/api.md). A page of one tier is "the
--    matches of that tier in id order", which an index serves without ranking every match: for a
--    broad term the id index is walked and the first matches taken; for a rare one the GIN index
--    finds all of them (few) and they are sorted. The planner chooses from the statistics of the
--    vectors, so the function plans each query with its own values (EXECUTE).
--    Tier 0 needs the description: catalog_search_text holds each card's lexemes that are not in its
--    name, tags or summary (no positions), so its candidates are the models whose description has a
--    query word the rest of the card lacks, not every match of the whole card (for a query with a
--    negation or a phrase, every match of models.search is checked).
-- 3. mm_catalog_page cuts the page: filters, the caller's visibility (the rule of
--    CatalogRepository.VISIBLE), the keyset cursor and the limit all apply inside it, so the search
--    joins models (whose policy and VISIBLE still apply) for the page's rows only.

CREATE TABLE catalog_search (
    model_id       uuid PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
    tenant_id      uuid        NOT NULL,
    kind           text        NOT NULL,
    visibility     text        NOT NULL,
    open           boolean     NOT NULL,  -- kind = 'algorithm' OR listed: others may list it
    publisher_gone boolean     NOT NULL,  -- the publishing tenant is deleted
    task           text        NOT NULL,
    framework      text        NOT NULL,
    tags           text[]      NOT NULL,
    created_at     timestamptz NOT NULL,
    subscribers    bigint      NOT NULL,
    name_vector    tsvector    NOT NULL,  -- the name, as the first part of models.search (same positions)
    card_vector    tsvector    NOT NULL   -- models.rank_vector: name, tags, summary
);
CREATE INDEX catalog_search_newest_idx ON catalog_search (created_at DESC, model_id DESC);
CREATE INDEX catalog_search_popular_idx ON catalog_search (subscribers DESC, model_id DESC);
CREATE INDEX catalog_search_tenant_idx ON catalog_search (tenant_id);
CREATE INDEX catalog_search_tags_idx ON catalog_search USING gin (tags);
CREATE INDEX catalog_search_name_idx ON catalog_search USING gin (name_vector);
CREATE INDEX catalog_search_card_idx ON catalog_search USING gin (card_vector);
REVOKE ALL ON catalog_search FROM mm_app;
ALTER TABLE catalog_search ENABLE ROW LEVEL SECURITY;

-- The lexemes of a model's whole card that are not in its name, tags or summary (its description's
-- own words), without positions: a model whose card (catalog_search.card_vector) does not satisfy a
-- query without negation or phrase, but whose whole card does, has one of the query's lexemes here,
-- so these rows are the candidates of relevance tier 0 (checked against models.search). Apart from
-- catalog_search so that its rows stay narrow.
CREATE TABLE catalog_search_text (
    model_id uuid PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
    lexemes  tsvector NOT NULL
);
CREATE INDEX catalog_search_text_idx ON catalog_search_text USING gin (lexemes);
REVOKE ALL ON catalog_search_text FROM mm_app;
ALTER TABLE catalog_search_text ENABLE ROW LEVEL SECURITY;

-- The row of one model, from the model and its publisher. The publisher's row is locked (FOR SHARE)
-- so a concurrent deletion of the publisher either waits for this transaction (and its trigger then
-- sees this row) or has committed (and is read here). Model ids never change.
CREATE FUNCTION mm_catalog_search_sync() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    gone boolean;
BEGIN
    SELECT t.deleted_at IS NOT NULL INTO gone FROM public.tenants t WHERE t.id = NEW.tenant_id FOR SHARE;
    INSERT INTO public.catalog_search AS c (model_id, tenant_id, kind, visibility, open, publisher_gone, task, framework,
                                            tags, created_at, subscribers, name_vector, card_vector)
    VALUES (NEW.id, NEW.tenant_id, NEW.kind, NEW.visibility, NEW.kind = 'algorithm' OR NEW.listed, coalesce(gone, false),
            NEW.task, NEW.framework, NEW.tags, NEW.created_at, NEW.active_subscribers,
            setweight(to_tsvector('english', NEW.name), 'A'), NEW.rank_vector)
    ON CONFLICT (model_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, kind = EXCLUDED.kind,
        visibility = EXCLUDED.visibility, open = EXCLUDED.open, publisher_gone = EXCLUDED.publisher_gone,
        task = EXCLUDED.task, framework = EXCLUDED.framework, tags = EXCLUDED.tags, created_at = EXCLUDED.created_at,
        subscribers = EXCLUDED.subscribers, name_vector = EXCLUDED.name_vector, card_vector = EXCLUDED.card_vector;
    INSERT INTO public.catalog_search_text AS c (model_id, lexemes)
    VALUES (NEW.id, ts_delete(strip(NEW.search), tsvector_to_array(NEW.rank_vector)))
    ON CONFLICT (model_id) DO UPDATE SET lexemes = EXCLUDED.lexemes WHERE c.lexemes IS DISTINCT FROM EXCLUDED.lexemes;
    RETURN NULL;
END $$;
CREATE TRIGGER models_catalog_search_insert AFTER INSERT ON models
    FOR EACH ROW EXECUTE FUNCTION mm_catalog_search_sync();
CREATE TRIGGER models_catalog_search_update AFTER UPDATE ON models
    FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
        OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.visibility IS DISTINCT FROM NEW.visibility
        OR OLD.listed IS DISTINCT FROM NEW.listed OR OLD.task IS DISTINCT FROM NEW.task
        OR OLD.framework IS DISTINCT FROM NEW.framework OR OLD.tags IS DISTINCT FROM NEW.tags
        OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.active_subscribers IS DISTINCT FROM NEW.active_subscribers
        OR OLD.name IS DISTINCT FROM NEW.name OR OLD.rank_vector IS DISTINCT FROM NEW.rank_vector
        OR OLD.search IS DISTINCT FROM NEW.search)
    EXECUTE FUNCTION mm_catalog_search_sync();

CREATE FUNCTION mm_catalog_search_publisher() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE public.catalog_search SET publisher_gone = NEW.deleted_at IS NOT NULL
    WHERE tenant_id = NEW.id AND publisher_gone IS DISTINCT FROM (NEW.deleted_at IS NOT NULL);
    RETURN NULL;
END $$;
CREATE TRIGGER tenants_catalog_search AFTER UPDATE OF deleted_at ON tenants
    FOR EACH ROW WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION mm_catalog_search_publisher();

INSERT INTO catalog_search (model_id, tenant_id, kind, visibility, open, publisher_gone, task, framework, tags, created_at,
                            subscribers, name_vector, card_vector)
SELECT m.id, m.tenant_id, m.kind, m.visibility, m.kind = 'algorithm' OR m.listed, t.deleted_at IS NOT NULL, m.task,
       m.framework, m.tags, m.created_at, m.active_subscribers, setweight(to_tsvector('english', m.name), 'A'), m.rank_vector
FROM models m JOIN tenants t ON t.id = m.tenant_id;
INSERT INTO catalog_search_text (model_id, lexemes)
SELECT m.id, ts_delete(strip(m.search), tsvector_to_array(m.rank_vector)) FROM models m;
ANALYZE catalog_search, catalog_search_text;

-- One page of the catalog for the current scope: up to lim (id, rank) in the order's key, after the
-- cursor (after_key, after_id) when after_id is not null. sort: relevance (query required; rank is
-- the tier 2, 1 or 0), newest or popular (rank 0; with a query, only its matches). Filters are
-- optional (null: any). Only models the scope may list come back: its own, or listed (or algorithms)
-- public ones or listed ones shared with it, of a publisher not deleted.
CREATE FUNCTION mm_catalog_page(query text, sort text, after_key text, after_id uuid, lim int,
                                f_task text, f_tag text, f_publisher text, f_framework text, f_kind text,
                                f_price text)
    RETURNS TABLE (id uuid, rank real)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me uuid := public.mm_current_tenant();
    q tsquery;
    any_lexeme tsquery;  -- q's lexemes, or-ed
    simple boolean;      -- q has neither a negation nor a phrase
    vis text;
    whole text;          -- the whole card (models.search) matches
    zero text;           -- models whose whole card matches: all those whose card does not among them
    parts text[] := '{}';
    sql text;
    t int;
    k real;
BEGIN
    IF NOT public.mm_scoped() OR lim IS NULL OR lim < 1 THEN
        RETURN;
    END IF;
    vis := ' NOT s.publisher_gone AND (s.tenant_id = $1 OR (s.open AND '
        || '(s.visibility = ''public'' OR (s.visibility = ''shared'' AND EXISTS (SELECT 1 FROM public.model_shares sh '
        || 'WHERE sh.model_id = s.model_id AND sh.tenant_id = $1)))))';
    IF f_task IS NOT NULL THEN vis := vis || ' AND s.task = $2'; END IF;
    IF f_tag IS NOT NULL THEN vis := vis || ' AND s.tags @> ARRAY[$3]'; END IF;
    IF f_publisher IS NOT NULL THEN
        vis := vis || ' AND s.tenant_id = (SELECT pt.id FROM public.tenants pt WHERE pt.slug = $4)';
    END IF;
    IF f_framework IS NOT NULL THEN vis := vis || ' AND s.framework = $5'; END IF;
    IF f_kind IS NOT NULL THEN vis := vis || ' AND s.kind = $6'; END IF;
    IF f_price IS NOT NULL THEN
        vis := vis || ' AND EXISTS (SELECT 1 FROM public.plans p WHERE p.model_id = s.model_id '
            || 'AND p.archived_at IS NULL AND p.type = $7)';
    END IF;
    -- per row, never hashed over every model (a scalar subquery, unlike EXISTS)
    whole := '(SELECT m.search @@ $8 FROM public.models m WHERE m.id = s.model_id)';
    IF query IS NOT NULL THEN
        q := websearch_to_tsquery('english', query);
        simple := strpos(q::text, '!') = 0 AND strpos(q::text, '<') = 0;
        SELECT string_agg(x[1], ' | ')::tsquery INTO any_lexeme
        FROM regexp_matches(q::text, '(''(?:[^'']|'''')*'')', 'g') AS x;
        -- Without negation or phrase, a model whose whole card matches but whose card does not has a
        -- lexeme of the query among its description's own words (catalog_search_text): only those are
        -- checked against models.search; otherwise every match of the whole card (its GIN index).
        zero := CASE WHEN simple AND any_lexeme IS NOT NULL
            THEN 'SELECT d.model_id FROM public.catalog_search_text d JOIN public.models m ON m.id = d.model_id '
                 || 'WHERE d.lexemes @@ $12 AND m.search @@ $8'
            ELSE 'SELECT m.id AS model_id FROM public.models m WHERE m.search @@ $8' END;
    END IF;
    IF sort = 'relevance' THEN
        IF q IS NULL THEN
            RETURN;
        END IF;
        k := CASE WHEN after_id IS NULL THEN NULL ELSE after_key::real END;
        FOR t IN REVERSE 2..0 LOOP
            CONTINUE WHEN after_id IS NOT NULL AND t > k;
            -- name, card, whole card: the highest that satisfies the query. Without a negation a
            -- name or card match is a match of the whole card (its vector begins with them); with one,
            -- the whole card is checked too. Each tier is a page of its own in id order: the planner
            -- walks the id index for a broad term and sorts the GIN index's few matches for a rare one;
            -- tier 0 takes its candidates first (few: words of the description only).
            parts := parts || ('(' || CASE WHEN t = 0 THEN 'WITH z AS MATERIALIZED (' || zero || ') ' ELSE '' END
                || 'SELECT s.model_id, ' || t || '::real FROM '
                || CASE WHEN t = 0 THEN 'z JOIN public.catalog_search s ON s.model_id = z.model_id'
                        ELSE 'public.catalog_search s' END
                || ' WHERE' || vis || CASE t
                    WHEN 2 THEN ' AND s.name_vector @@ $8'
                    WHEN 1 THEN ' AND s.card_vector @@ $8 AND NOT s.name_vector @@ $8'
                    ELSE ' AND NOT s.card_vector @@ $8 AND NOT s.name_vector @@ $8' END
                || CASE WHEN t > 0 AND NOT simple THEN ' AND ' || whole ELSE '' END
                || CASE WHEN after_id IS NOT NULL AND t = k THEN ' AND s.model_id < $9' ELSE '' END
                || ' ORDER BY s.model_id DESC LIMIT $10)');
        END LOOP;
        IF cardinality(parts) = 0 THEN
            RETURN;
        END IF;
        sql := 'SELECT * FROM (' || array_to_string(parts, ' UNION ALL ') || ') u LIMIT $10';
    ELSIF sort IN ('newest', 'popular') THEN
        sql := CASE sort WHEN 'newest'
            THEN CASE WHEN after_id IS NULL THEN '' ELSE ' AND (s.created_at, s.model_id) < ($11::timestamptz, $9)' END
                 || ' ORDER BY s.created_at DESC, s.model_id DESC LIMIT $10'
            ELSE CASE WHEN after_id IS NULL THEN '' ELSE ' AND (s.subscribers, s.model_id) < ($11::bigint, $9)' END
                 || ' ORDER BY s.subscribers DESC, s.model_id DESC LIMIT $10' END;
        IF query IS NULL THEN
            sql := 'SELECT s.model_id, 0::real FROM public.catalog_search s WHERE' || vis || sql;
        ELSIF q IS NULL THEN
            RETURN;
        ELSE
            -- the page of the card's matches (the order's index walked, or the narrow GIN index's
            -- matches sorted) merged with the page of the others (tier 0's)
            sql := 'SELECT * FROM ((SELECT s.model_id, 0::real, s.created_at, s.subscribers FROM public.catalog_search s WHERE'
                || vis || ' AND s.card_vector @@ $8' || CASE WHEN simple THEN '' ELSE ' AND ' || whole END || sql
                || ') UNION ALL (WITH z AS MATERIALIZED (' || zero || ') SELECT s.model_id, 0::real, s.created_at, s.subscribers '
                || 'FROM z JOIN public.catalog_search s ON s.model_id = z.model_id WHERE' || vis
                || ' AND NOT s.card_vector @@ $8' || sql || ')) u ORDER BY '
                || CASE sort WHEN 'newest' THEN 'created_at DESC, model_id DESC' ELSE 'subscribers DESC, model_id DESC' END
                || ' LIMIT $10';
            sql := 'SELECT u2.model_id, u2.r FROM (' || sql || ') u2(model_id, r, c, n)';
        END IF;
    ELSE
        RAISE EXCEPTION 'mm_catalog_page: unknown sort %', sort;
    END IF;
    RETURN QUERY EXECUTE sql USING me, f_task, f_tag, f_publisher, f_framework, f_kind, f_price, q, after_id, lim, after_key,
        any_lexeme;
END $$;
REVOKE ALL ON FUNCTION mm_catalog_page(text, text, text, uuid, int, text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mm_catalog_page(text, text, text, uuid, int, text, text, text, text, text, text) TO mm_app;
