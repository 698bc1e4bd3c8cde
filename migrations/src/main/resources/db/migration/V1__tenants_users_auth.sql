-- Foundation: tenants (organisations), their users, refresh-token families and API keys.
-- Secrets are never stored in the clear: passwords as Argon2id PHC strings, refresh tokens as
-- SHA-256 digests, API keys as HMAC-SHA-256 digests keyed with a server secret.

CREATE TABLE tenants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug        text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email         text        NOT NULL CHECK (email = lower(email)),
    display_name  text        NOT NULL DEFAULT '',
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    role          text        NOT NULL CHECK (role IN ('owner', 'admin', 'publisher', 'member')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);
CREATE UNIQUE INDEX users_email_uq ON users (email);
CREATE INDEX users_tenant_idx ON users (tenant_id);

-- One row per issued refresh token. Tokens of one login share a family; replaying a used token
-- revokes the whole family.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id   uuid        NOT NULL,
    tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix       text        NOT NULL,
    last_four    text        NOT NULL CHECK (length(last_four) = 4),
    secret_hash  bytea       NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    scopes       text[]      NOT NULL CHECK (cardinality(scopes) > 0),
    created_by   uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);
