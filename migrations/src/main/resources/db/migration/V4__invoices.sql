-- Closed billing periods and their invoices. A period row is inserted once, in the transaction
-- that writes its invoices, so closing a period twice (or from two callers at once) writes one set.
CREATE TABLE billing_periods (
    period_start timestamptz PRIMARY KEY,
    period_end   timestamptz NOT NULL,
    closed_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (period_start < period_end)
);

CREATE TABLE invoices (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    number        int         NOT NULL CHECK (number > 0),
    period_start  timestamptz NOT NULL REFERENCES billing_periods (period_start),
    period_end    timestamptz NOT NULL,
    currency      text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    total_minor   bigint      NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, number),
    UNIQUE (tenant_id, period_start, currency)
);

CREATE TABLE invoice_lines (
    invoice_id                 uuid        NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    line_no                    int         NOT NULL,
    subscription_id            uuid        NOT NULL,
    plan_id                    uuid        NOT NULL,
    model_id                   uuid        NOT NULL,
    publisher_tenant_id        uuid        NOT NULL,
    kind                       text        NOT NULL,
    description                text        NOT NULL,
    active_from                timestamptz NOT NULL,
    active_to                  timestamptz NOT NULL,
    active_days                int         NOT NULL,
    period_days                int         NOT NULL,
    calls                      bigint      NOT NULL,
    included_calls             bigint      NOT NULL,
    quantity                   bigint      NOT NULL,
    unit_price_per_1000_minor  bigint      NOT NULL,
    fee_minor                  bigint      NOT NULL,
    usage_minor                bigint      NOT NULL,
    amount_minor               bigint      NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);
CREATE INDEX invoice_lines_publisher_idx ON invoice_lines (publisher_tenant_id);

-- Final invoices never change.
CREATE FUNCTION mm_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME;
END $$;
CREATE TRIGGER invoices_immutable BEFORE UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION mm_refuse_update();
CREATE TRIGGER invoice_lines_immutable BEFORE UPDATE ON invoice_lines FOR EACH ROW EXECUTE FUNCTION mm_refuse_update();
CREATE TRIGGER billing_periods_immutable BEFORE UPDATE ON billing_periods FOR EACH ROW EXECUTE FUNCTION mm_refuse_update();

-- Billable calls of a subscription in a time range (rating and quotas).
CREATE INDEX usage_records_subscription_time_idx ON usage_records (subscription_id, occurred_at) WHERE outcome = 'success';
