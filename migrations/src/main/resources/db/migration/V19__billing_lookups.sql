-- Lookups that rating by tenant or by publisher needs at 20,000 tenants (issue 20, bench/scale/RESULTS.md):
-- a tenant's draft invoice reads its own plan segments (filtered by tenant_id), a publisher's draft
-- earnings the segments of its models' plans (by plan_id). Without these both were a scan of every
-- tenant's segments.
CREATE INDEX subscription_segments_tenant_idx ON subscription_segments (tenant_id);
CREATE INDEX subscription_segments_plan_idx ON subscription_segments (plan_id);
