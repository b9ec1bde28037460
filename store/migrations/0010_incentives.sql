-- Incentives in the read model (design §4, §7): one row per incentive application with its money, and its
-- timeline. Projections write them from the workflow's IncentiveStatusView, idempotently and never backwards
-- (projected_seq); every new timeline event also lands in the audit log. The fund ledger is in 0009.

CREATE TABLE incentives (
    id                 text PRIMARY KEY,
    programme          text NOT NULL,
    programme_version  text NOT NULL,
    status             text NOT NULL,
    organisation_id    text,
    permit_id          text NOT NULL,
    fiscal_year        int  NOT NULL,
    submitted_at       timestamptz NOT NULL,
    production_title   text NOT NULL DEFAULT '',
    estimated_idr      bigint NOT NULL DEFAULT 0,
    reserved_idr       bigint NOT NULL DEFAULT 0,
    paid_idr           bigint NOT NULL DEFAULT 0,
    clawed_back_idr    bigint NOT NULL DEFAULT 0,
    committee_round    int  NOT NULL DEFAULT 0,
    approvals          int  NOT NULL DEFAULT 0,
    next_deadline      timestamptz,
    snapshot           jsonb NOT NULL,
    projected_seq      int  NOT NULL,
    projected_at       timestamptz NOT NULL DEFAULT now()
);
-- An organisation's incentives, newest first; everyone's, newest first; the committee queue, oldest first;
-- the figures per fiscal year, programme and status.
CREATE INDEX incentives_organisation ON incentives (organisation_id, submitted_at DESC, id DESC);
CREATE INDEX incentives_submitted ON incentives (submitted_at DESC, id DESC);
CREATE INDEX incentives_committee ON incentives (submitted_at, id) WHERE status = 'committee';
CREATE INDEX incentives_figures ON incentives (fiscal_year, programme, status);

CREATE TABLE incentive_timeline (
    incentive_id       text NOT NULL REFERENCES incentives (id),
    position           int  NOT NULL,
    at                 timestamptz NOT NULL,
    event              text NOT NULL,
    detail             text NOT NULL DEFAULT '',
    actor              text,
    PRIMARY KEY (incentive_id, position)
);
