-- The usage intake writes tens of thousands of rows a second; a foreign key makes PostgreSQL run
-- a referential-integrity trigger per row (an index probe of tenants plus a row lock). Usage rows
-- are written only by the platform, for the tenant of an authenticated caller, and tenants are
-- never deleted (a deleted tenant is kept, marked deleted, with its usage and invoices), so the
-- constraint guards nothing the code does not already: it goes.
ALTER TABLE usage_records DROP CONSTRAINT IF EXISTS usage_records_tenant_id_fkey;
