-- Uploads belong to the tenant that uploaded them.
--
-- The artifact store on disk is content-addressed and shared: identical bytes are stored once,
-- whoever sent them. What a tenant may build on is recorded here: one row per (tenant, SHA-256)
-- it uploaded. A version (artifactSha256) or a bundle (bundleSha256) may name only a row of the
-- caller's own tenant; any other hash is not found, exactly as a hash nobody uploaded. Without
-- this, a public model card's artifact hash was enough to publish a copy of a paid model.

CREATE TABLE uploads (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sha256       text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes   bigint      NOT NULL CHECK (size_bytes >= 0),
    uploaded_by  uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, sha256)
);

-- Versions that exist already: their publishers own the artifacts they reference.
INSERT INTO uploads (tenant_id, sha256, size_bytes)
SELECT DISTINCT ON (tenant_id, artifact_sha256) tenant_id, artifact_sha256, artifact_size
FROM model_versions
WHERE artifact_sha256 ~ '^[0-9a-f]{64}$'
ON CONFLICT DO NOTHING;

GRANT SELECT, INSERT, UPDATE, DELETE ON uploads TO mm_app;

-- Like every tenant table (V5): read and written only in the owning tenant's scope (or the system scope).
ALTER TABLE uploads ENABLE ROW LEVEL SECURITY;
CREATE POLICY uploads_tenant ON uploads TO mm_app
    USING (mm_system_scope() OR tenant_id = mm_current_tenant())
    WITH CHECK (mm_system_scope() OR tenant_id = mm_current_tenant());
