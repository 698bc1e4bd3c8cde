-- The marketplace catalog: models and algorithms, their versions and aliases, who may see them,
-- price plans, subscriptions (with their plan history for proration) and the audit log.

-- array_to_string is only STABLE; tags are plain text, so this wrapper is safe to mark IMMUTABLE
-- and lets the search vector be a generated column.
CREATE FUNCTION mm_tags_text(tags text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(array_to_string(tags, ' '), '') $$;

CREATE TABLE models (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind            text        NOT NULL CHECK (kind IN ('model', 'algorithm')),
    slug            text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    summary         text        NOT NULL DEFAULT '' CHECK (length(summary) <= 500),
    description     text        NOT NULL DEFAULT '' CHECK (length(description) <= 100000),
    task            text        NOT NULL,
    tags            text[]      NOT NULL DEFAULT '{}',
    license         text        NOT NULL DEFAULT '',
    framework       text        NOT NULL DEFAULT 'pytorch',
    visibility      text        NOT NULL CHECK (visibility IN ('public', 'private', 'shared')),
    claimed_metrics jsonb       NOT NULL DEFAULT '{}',
    algorithm_spec  jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    search          tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('english', name), 'A')
                        || setweight(to_tsvector('english', mm_tags_text(tags)), 'B')
                        || setweight(to_tsvector('english', summary), 'B')
                        || setweight(to_tsvector('english', description), 'C')) STORED
);
CREATE INDEX models_search_idx ON models USING gin (search);
CREATE INDEX models_tags_idx ON models USING gin (tags);
CREATE INDEX models_tenant_idx ON models (tenant_id);
CREATE INDEX models_newest_idx ON models (created_at DESC, id DESC);

-- Tenants a 'shared' model is shared with.
CREATE TABLE model_shares (
    model_id   uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    PRIMARY KEY (model_id, tenant_id)
);
CREATE INDEX model_shares_tenant_idx ON model_shares (tenant_id);

CREATE TABLE model_versions (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id              uuid        NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    tenant_id             uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version               text        NOT NULL,
    major                 int         NOT NULL,
    minor                 int         NOT NULL,
    patch                 int         NOT NULL,
    state                 text        NOT NULL CHECK (state IN ('draft', 'published', 'deprecated', 'retired')),
    artifact_sha256       text        NOT NULL CHECK (artifact_sha256 ~ '^[0-9a-f]{64}$'),
    artifact_size         bigint      NOT NULL,
    manifest              jsonb       NOT NULL,
    load_millis           bigint      NOT NULL,
    single_latency_micros bigint      NOT NULL,
    created_by            uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    published_at          timestamptz,
    deprecated_at         timestamptz,
    retired_at            timestamptz,
    UNIQUE (model_id, version)
);

CREATE TABLE model_aliases (
    model_id    uuid        NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    alias       text        NOT NULL CHECK (alias ~ '^[a-z][a-z0-9_-]{0,31}$'),
    version_id  uuid        NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_id, alias)
);

CREATE TABLE plans (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id              uuid        NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    tenant_id             uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                  text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    type                  text        NOT NULL CHECK (type IN ('free', 'pay_as_you_go', 'monthly')),
    currency              text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    monthly_fee_minor     bigint      NOT NULL DEFAULT 0 CHECK (monthly_fee_minor >= 0),
    included_calls        bigint      NOT NULL DEFAULT 0 CHECK (included_calls >= 0),
    price_per_1000_minor  bigint      NOT NULL DEFAULT 0 CHECK (price_per_1000_minor >= 0),
    rate_limit_per_minute int         NOT NULL CHECK (rate_limit_per_minute > 0),
    created_at            timestamptz NOT NULL DEFAULT now(),
    archived_at           timestamptz,
    CHECK (type <> 'free' OR (monthly_fee_minor = 0 AND price_per_1000_minor = 0 AND included_calls > 0)),
    CHECK (type <> 'pay_as_you_go' OR (monthly_fee_minor = 0 AND included_calls = 0 AND price_per_1000_minor > 0)),
    CHECK (type <> 'monthly' OR monthly_fee_minor > 0)
);
CREATE INDEX plans_model_idx ON plans (model_id);

CREATE TABLE subscriptions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    model_id    uuid        NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    plan_id     uuid        NOT NULL REFERENCES plans (id),
    status      text        NOT NULL CHECK (status IN ('active', 'cancelled')),
    created_by  uuid        REFERENCES users (id) ON DELETE SET NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz
);
CREATE UNIQUE INDEX subscriptions_one_active_uq ON subscriptions (tenant_id, model_id) WHERE status = 'active';
CREATE INDEX subscriptions_model_idx ON subscriptions (model_id) WHERE status = 'active';

-- A subscription's time on each plan: a plan change closes one segment and opens the next.
CREATE TABLE subscription_segments (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    subscription_id  uuid        NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    tenant_id        uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    plan_id          uuid        NOT NULL REFERENCES plans (id),
    active_from      timestamptz NOT NULL,
    active_to        timestamptz
);
CREATE INDEX subscription_segments_sub_idx ON subscription_segments (subscription_id);

CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    tenant_id      uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    actor_user_id  uuid,
    action         text        NOT NULL,
    target_type    text        NOT NULL,
    target_id      text        NOT NULL,
    details        jsonb       NOT NULL DEFAULT '{}',
    client_address text,
    request_id     text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id DESC);
