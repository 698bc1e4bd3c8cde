-- Row-level security: a second wall under the application's own tenant filters.
--
-- The application's pool runs as the NOLOGIN role mm_app (the connection's startup parameter
-- role=mm_app), never as the owner of these tables. Each unit of work sets, transaction-locally:
--   mm.scope      'tenant' (with mm.tenant_id), 'visitor' (anonymous catalog reads) or 'system'
--                 (the few cross-tenant operations: login by e-mail, API-key lookup by hash,
--                 refresh-token lookup by hash, the usage meter's batch insert, closing a billing
--                 period, publishers' earnings, tenant deletion);
--   mm.tenant_id  the tenant of the principal.
-- With neither set, the protected tables return no rows and refuse writes.
--
-- The owner (who runs Flyway) is deliberately not subject to the policies (no FORCE): the
-- SECURITY DEFINER helpers below read across tenants for aggregates that are public (a model's
-- subscriber count, whether a slug is taken) without exposing rows. tenants (public name and slug)
-- and billing_periods (period markers) hold no tenant-private rows and stay unprotected.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mm_app') THEN
        CREATE ROLE mm_app NOLOGIN;
    END IF;
EXCEPTION
    -- another database of the same cluster created it at the same moment
    WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'mm_app', 'MEMBER') THEN
        EXECUTE format('GRANT mm_app TO %I', current_user);
    END IF;
END $$;

GRANT USAGE ON SCHEMA public TO mm_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO mm_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO mm_app;
REVOKE ALL ON flyway_schema_history FROM mm_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO mm_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO mm_app;

-- The scope of the current transaction.
CREATE FUNCTION mm_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('mm.tenant_id', true), '')::uuid $$;

CREATE FUNCTION mm_system_scope() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('mm.scope', true), '') = 'system' $$;

-- Any scope at all (tenant, visitor or system): public catalog rows need at least this.
CREATE FUNCTION mm_scoped() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('mm.scope', true), '') <> '' $$;

-- Definer helpers (they run as the owner, so they read past the policies, and break the cycle
-- models -> model_shares -> models that plain policies would form).
CREATE FUNCTION mm_shared_with_current(model uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT EXISTS (SELECT 1 FROM public.model_shares s
                         WHERE s.model_id = model AND s.tenant_id = public.mm_current_tenant()) $$;

CREATE FUNCTION mm_active_subscribers(model uuid) RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT count(*) FROM public.subscriptions s WHERE s.model_id = model AND s.status = 'active' $$;

CREATE FUNCTION mm_model_slug_taken(wanted text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT EXISTS (SELECT 1 FROM public.models m WHERE m.slug = wanted) $$;

REVOKE ALL ON FUNCTION mm_shared_with_current(uuid), mm_active_subscribers(uuid), mm_model_slug_taken(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mm_shared_with_current(uuid), mm_active_subscribers(uuid), mm_model_slug_taken(text) TO mm_app;

-- Tables owned by one tenant, read and written only in its scope (or the system scope).
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_tenant ON users TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY refresh_tokens_tenant ON refresh_tokens TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_keys_tenant ON api_keys TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

ALTER TABLE subscriptions ENABLE ROW LEVEL SECURITY;
CREATE POLICY subscriptions_tenant ON subscriptions TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

ALTER TABLE subscription_segments ENABLE ROW LEVEL SECURITY;
CREATE POLICY subscription_segments_tenant ON subscription_segments TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

ALTER TABLE usage_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY usage_records_tenant ON usage_records TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY invoices_tenant ON invoices TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_tenant ON audit_log TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

-- Invoice lines follow their invoice (the subquery is itself filtered by the invoices policy).
ALTER TABLE invoice_lines ENABLE ROW LEVEL SECURITY;
CREATE POLICY invoice_lines_tenant ON invoice_lines TO mm_app
    USING (mm_system_scope() OR EXISTS (SELECT 1 FROM invoices i WHERE i.id = invoice_lines.invoice_id))
    WITH CHECK (mm_system_scope() OR EXISTS (SELECT 1 FROM invoices i WHERE i.id = invoice_lines.invoice_id));

-- The models policy asks, per model, whether the scoped tenant subscribes (or subscribed) to it.
CREATE INDEX subscriptions_model_tenant_idx ON subscriptions (model_id, tenant_id);

-- The catalog: the publisher writes its own rows; a model is readable by its publisher, by anyone
-- in a scope when public, by the tenants it is shared with, and by tenants that subscribe (or
-- subscribed) to it, whose invoices and usage name it.
ALTER TABLE models ENABLE ROW LEVEL SECURITY;
CREATE POLICY models_read ON models FOR SELECT TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant()
           OR (visibility = 'public' AND mm_scoped())
           OR (visibility = 'shared' AND mm_shared_with_current(models.id))
           OR EXISTS (SELECT 1 FROM subscriptions s WHERE s.model_id = models.id));
CREATE POLICY models_write ON models TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

ALTER TABLE model_shares ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_shares_read ON model_shares FOR SELECT TO mm_app
    USING (tenant_id = mm_current_tenant());
CREATE POLICY model_shares_write ON model_shares TO mm_app
    USING (mm_system_scope() OR EXISTS (SELECT 1 FROM models m WHERE m.id = model_shares.model_id AND m.tenant_id = mm_current_tenant()))
    WITH CHECK (mm_system_scope() OR EXISTS (SELECT 1 FROM models m WHERE m.id = model_shares.model_id AND m.tenant_id = mm_current_tenant()));

-- Versions, aliases and plans are readable wherever their model is (the subquery on models is
-- filtered by the models policy), written only by the model's publisher.
ALTER TABLE model_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_versions_read ON model_versions FOR SELECT TO mm_app
    USING (EXISTS (SELECT 1 FROM models m WHERE m.id = model_versions.model_id));
CREATE POLICY model_versions_write ON model_versions TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

ALTER TABLE plans ENABLE ROW LEVEL SECURITY;
CREATE POLICY plans_read ON plans FOR SELECT TO mm_app
    USING (EXISTS (SELECT 1 FROM models m WHERE m.id = plans.model_id));
CREATE POLICY plans_write ON plans TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());

ALTER TABLE model_aliases ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_aliases_read ON model_aliases FOR SELECT TO mm_app
    USING (EXISTS (SELECT 1 FROM models m WHERE m.id = model_aliases.model_id));
CREATE POLICY model_aliases_write ON model_aliases TO mm_app
    USING (mm_system_scope() OR EXISTS (SELECT 1 FROM models m WHERE m.id = model_aliases.model_id AND m.tenant_id = mm_current_tenant()))
    WITH CHECK (mm_system_scope() OR EXISTS (SELECT 1 FROM models m WHERE m.id = model_aliases.model_id AND m.tenant_id = mm_current_tenant()));
