-- The incentive funds (design §4): one fund per fiscal year and programme, whole rupiah. Written only by
-- store/funds.py, each operation in one transaction holding the fund's row lock.
--   funds           the balances; CHECKs keep every one of them, and `available`, from going negative
--   fund_holdings   what each incentive application asked for and holds: waiting, reserved, paid, clawed back;
--                   the waiting list is the `waitlisted` holdings of a fund in arrival order
--   fund_entries    the ledger, append-only: each change of a balance with who and why
--   fund_operations one row per idempotency key with the answer it gave, so a replay answers the same
-- Invariant: available + reserved + paid = capacity + clawed_back, where
-- available = capacity + clawed_back - reserved - paid.

CREATE TABLE funds (
    fiscal_year      int    NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2100),
    programme        text   NOT NULL
                     CHECK (programme IN ('location_rebate', 'shooting_days_grant', 'first_feature_fund')),
    capacity_idr     bigint NOT NULL CHECK (capacity_idr >= 0),
    reserved_idr     bigint NOT NULL DEFAULT 0 CHECK (reserved_idr >= 0),
    paid_idr         bigint NOT NULL DEFAULT 0 CHECK (paid_idr >= 0),
    clawed_back_idr  bigint NOT NULL DEFAULT 0 CHECK (clawed_back_idr >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (fiscal_year, programme),
    CONSTRAINT funds_available_not_negative
        CHECK (capacity_idr + clawed_back_idr - reserved_idr - paid_idr >= 0)
);

-- Arrival order at the funds: drawn while the fund's row lock is held, so it is the order applications reached it.
CREATE SEQUENCE fund_arrival_seq;

CREATE TABLE fund_holdings (
    incentive_id     text   PRIMARY KEY,
    fiscal_year      int    NOT NULL,
    programme        text   NOT NULL,
    arrival          bigint NOT NULL UNIQUE DEFAULT nextval('fund_arrival_seq'),
    state            text   NOT NULL CHECK (state IN ('reserved', 'waitlisted', 'released')),
    requested_idr    bigint NOT NULL CHECK (requested_idr > 0),
    reserved_idr     bigint NOT NULL DEFAULT 0 CHECK (reserved_idr >= 0),   -- outstanding reservation
    paid_idr         bigint NOT NULL DEFAULT 0 CHECK (paid_idr >= 0),
    clawed_back_idr  bigint NOT NULL DEFAULT 0 CHECK (clawed_back_idr >= 0),
    arrived_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    FOREIGN KEY (fiscal_year, programme) REFERENCES funds (fiscal_year, programme),
    CONSTRAINT fund_holdings_clawback_within_paid CHECK (clawed_back_idr <= paid_idr),
    CONSTRAINT fund_holdings_within_request CHECK (reserved_idr + paid_idr <= requested_idr),
    CONSTRAINT fund_holdings_waiting_holds_nothing
        CHECK (state <> 'waitlisted' OR (reserved_idr = 0 AND paid_idr = 0 AND clawed_back_idr = 0))
);
-- The waiting list of a fund, oldest first.
CREATE INDEX fund_holdings_waitlist ON fund_holdings (fiscal_year, programme, arrival) WHERE state = 'waitlisted';

CREATE TABLE fund_entries (
    id               bigserial PRIMARY KEY,
    at               timestamptz NOT NULL,
    fiscal_year      int    NOT NULL,
    programme        text   NOT NULL,
    incentive_id     text,                                  -- null for capacity changes
    kind             text   NOT NULL CHECK (kind IN ('capacity', 'reserve', 'release', 'pay', 'clawback')),
    amount_idr       bigint NOT NULL,                       -- capacity: the change (may be negative); else >= 0
    actor            text   NOT NULL,
    reason           text   NOT NULL,
    key              text   NOT NULL UNIQUE,
    FOREIGN KEY (fiscal_year, programme) REFERENCES funds (fiscal_year, programme),
    CONSTRAINT fund_entries_amount CHECK (kind = 'capacity' OR amount_idr >= 0),
    CONSTRAINT fund_entries_incentive CHECK ((kind = 'capacity') = (incentive_id IS NULL))
);
CREATE INDEX fund_entries_fund ON fund_entries (fiscal_year, programme, id);
CREATE INDEX fund_entries_incentive ON fund_entries (incentive_id, id) WHERE incentive_id IS NOT NULL;

CREATE FUNCTION fund_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'fund_entries is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Append a correcting entry (a release, a clawback, a capacity change) instead.';
END;
$$;

CREATE TRIGGER fund_entries_append_only
    BEFORE UPDATE OR DELETE ON fund_entries
    FOR EACH ROW EXECUTE FUNCTION fund_entries_refuse_change();

CREATE TRIGGER fund_entries_no_truncate
    BEFORE TRUNCATE ON fund_entries
    FOR EACH STATEMENT EXECUTE FUNCTION fund_entries_refuse_change();

CREATE TABLE fund_operations (
    key              text   PRIMARY KEY,
    operation        text   NOT NULL,                       -- set_capacity, reserve, release, pay, clawback
    incentive_id     text,
    fiscal_year      int    NOT NULL,
    programme        text   NOT NULL,
    result           jsonb  NOT NULL,                       -- the first answer, given again on a replay
    at               timestamptz NOT NULL
);
