-- Lookups that rating by tenant or by publisher needs at 20,000 tenants (issue 20, bench/scale/RESULTS.md):
-- a tenant's draft invoice reads its own plan segments (filtered by tenant_id), a publisher's draft
-- earnings the segments of its models' plans (by plan_id). Without these both were a scan of every
-- tenant's segments.
CREATE INDEX subscription_segments_tenant_idx ON subscription_segments (tenant_id);
CREATE INDEX subscription_segments_plan_idx ON subscription_segments (plan_id);

-- Rating sums a segment's billable calls (mm_usage_calls, V18): whole days from usage_daily, the
-- partial days at its edges (usually none) from usage_rollups. At 5 million bucket rows the heap of
-- usage_rollups is far larger than the buffer cache, and each of the 50,000 segments of a close
-- visited its heap pages; these covering indexes answer the sums from the index alone (tenant_id is
-- included because the row-level security policy reads it).
CREATE INDEX usage_rollups_subscription_calls_idx ON usage_rollups (subscription_id, outcome, bucket)
    INCLUDE (tenant_id, calls) WHERE subscription_id IS NOT NULL;
CREATE INDEX usage_daily_subscription_calls_idx ON usage_daily (subscription_id, outcome, day)
    INCLUDE (tenant_id, calls) WHERE subscription_id IS NOT NULL;
