-- The read model: one row per application and clearance, the timeline, agency outages,
-- and the hash-chained audit log. Written only by idempotent projections.

CREATE TABLE applications (
    id                 text PRIMARY KEY,
    status             text NOT NULL,
    rule_set           text,
    submitted_at       timestamptz NOT NULL,
    production_title   text NOT NULL,
    applicant_company  text NOT NULL,
    location_names     text NOT NULL DEFAULT '',        -- for search
    agencies           text[] NOT NULL DEFAULT '{}',    -- routed agencies, for filtering
    permit_number      text UNIQUE,
    issued_at          timestamptz,
    fees_total_idr     bigint,
    paid_at            timestamptz,
    next_deadline      timestamptz,
    earliest_feasible_start date,
    snapshot           jsonb NOT NULL,                  -- the full PermitStatusView as projected
    projected_seq      bigint NOT NULL,                 -- the workflow's event sequence; never goes backwards
    projected_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applications_submitted ON applications (submitted_at DESC, id DESC);
CREATE INDEX applications_status_submitted ON applications (status, submitted_at DESC, id DESC);
CREATE INDEX applications_agencies ON applications USING gin (agencies);

CREATE TABLE clearances (
    application_id     text NOT NULL REFERENCES applications (id),
    agency             text NOT NULL,
    revision           int  NOT NULL,
    status             text NOT NULL,
    reference          text,
    requested_at       timestamptz,
    accepted_at        timestamptz,
    due_at             timestamptz,
    final_deadline_at  timestamptz,
    reminded_at        timestamptz,
    breached_at        timestamptz,
    decided_at         timestamptz,
    sla                text,
    outcome            text,            -- the final status once decided
    conditions         jsonb NOT NULL DEFAULT '[]',
    reason             text,
    failed_attempts    int NOT NULL DEFAULT 0,
    turnaround_business_days int,       -- accepted → decided, Jakarta business days
    PRIMARY KEY (application_id, agency, revision)
);
CREATE INDEX clearances_agency_accepted ON clearances (agency, accepted_at);
CREATE INDEX clearances_breached ON clearances (breached_at) WHERE breached_at IS NOT NULL;

CREATE TABLE timeline_events (
    application_id     text NOT NULL REFERENCES applications (id),
    position           int  NOT NULL,   -- index in the workflow's timeline
    at                 timestamptz NOT NULL,
    event              text NOT NULL,
    detail             text NOT NULL DEFAULT '',
    PRIMARY KEY (application_id, position)
);

CREATE TABLE agency_outages (
    application_id     text NOT NULL,
    agency             text NOT NULL,
    revision           int  NOT NULL,
    episode            int  NOT NULL,   -- index in the clearance's outage list
    started_at         timestamptz NOT NULL,
    recovered_at       timestamptz,
    failed_attempts    int NOT NULL DEFAULT 0,
    PRIMARY KEY (application_id, agency, revision, episode)
);
CREATE INDEX agency_outages_agency ON agency_outages (agency, started_at);

CREATE TABLE audit_log (
    seq                bigserial PRIMARY KEY,
    at                 timestamptz NOT NULL,
    actor              text NOT NULL,
    application_id     text,
    action             text NOT NULL,
    detail             jsonb NOT NULL DEFAULT '{}',
    source_key         text NOT NULL UNIQUE,   -- what produced the row: a retry finds it and adds nothing
    prev_hash          text NOT NULL,
    hash               text NOT NULL
);
