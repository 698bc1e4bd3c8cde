-- A tenant's side in a tenant-sticky alias split (issue 18): chosen on the tenant's first call
-- during the split so that the tenants seen so far are divided as close to the canary's share as
-- whole tenants allow (a hash of each tenant would leave 50 tenants within ±6 points of the share,
-- not a few), and kept until the split ends: a tenant sees one version throughout. A row belongs
-- to the split of its canary version; a new canary starts afresh. Changing the share moves the
-- fewest tenants needed, and raising it only ever moves tenants onto the canary.
CREATE TABLE alias_split_members (
    model_id          uuid        NOT NULL,
    alias             text        NOT NULL,
    tenant_id         uuid        NOT NULL,
    canary_version_id uuid        NOT NULL,
    canary            boolean     NOT NULL,
    assigned_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (model_id, alias, tenant_id),
    FOREIGN KEY (model_id, alias) REFERENCES alias_splits (model_id, alias) ON DELETE CASCADE
);
CREATE INDEX alias_split_members_split_idx ON alias_split_members (model_id, alias, canary_version_id, canary);

GRANT SELECT, INSERT, UPDATE, DELETE ON alias_split_members TO mm_app;
-- Who calls a publisher's model is not the publisher's to read row by row: only the platform's own
-- scope (the inference path's assignment, the share's rebalancing) touches these rows.
ALTER TABLE alias_split_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY alias_split_members_system ON alias_split_members TO mm_app
    USING (mm_system_scope()) WITH CHECK (mm_system_scope());
