-- Payments and refunds (design §3, fees). The API records every payment the provider reports, keyed by its
-- payment_id (a replayed webhook is one row), before it tells the application; the projection then writes what
-- became of it (matched, or a refund with its reason). A payment for an application that had closed is made a
-- refund by the API itself. The officer queue lists every refund not made yet.

CREATE TABLE payments (
    payment_id      text PRIMARY KEY,
    application_id  text NOT NULL,
    permit_id       text NOT NULL,                 -- as the provider named it: the application id or a permit number
    amount_idr      bigint NOT NULL CHECK (amount_idr > 0),
    paid_at         timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    -- received: recorded by the API, not heard back from the application yet; pending: the application holds it
    -- until a fee is due; matched: it settled the fee; refund: see refunds
    outcome         text NOT NULL DEFAULT 'received'
                    CHECK (outcome IN ('received', 'pending', 'matched', 'refund')),
    detail          text NOT NULL DEFAULT '',
    decided_at      timestamptz
);
CREATE INDEX payments_application ON payments (application_id, received_at);
-- payments nobody decided yet (the queue looks for those of closed applications)
CREATE INDEX payments_undecided ON payments (application_id) WHERE outcome IN ('received', 'pending');

CREATE TABLE refunds (
    payment_id      text PRIMARY KEY REFERENCES payments (payment_id),
    application_id  text NOT NULL,
    amount_idr      bigint NOT NULL CHECK (amount_idr > 0),
    reason          text NOT NULL
                    CHECK (reason IN ('wrong_amount', 'already_paid', 'application_closed', 'other_application')),
    detail          text NOT NULL,
    due_since       timestamptz NOT NULL,          -- when it became a refund to make
    refunded_at     timestamptz,                   -- when the commission paid it back
    refunded_by     text
);
-- the officer queue: refunds still to make, oldest first
CREATE INDEX refunds_open ON refunds (due_since, payment_id) WHERE refunded_at IS NULL;
