-- Notifications to applicants, written by the `notify` activity and delivered by the outbox
-- relay to the applicant's webhook. A row is delivered (delivered_at), waiting for its next
-- attempt (next_attempt_at), or dead (dead_at: refused with a 4xx, or failing for days); dead
-- rows stay for officers to see, with the last error.

CREATE TABLE notification_outbox (
    id               bigserial PRIMARY KEY,
    key              text NOT NULL UNIQUE,              -- idempotency key; also the receiver's Idempotency-Key
    application_id   text NOT NULL,
    audience         text NOT NULL,
    kind             text NOT NULL,
    detail           text NOT NULL DEFAULT '',
    organisation_id  text,                              -- picks the signing secret
    webhook_url      text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    attempts         int NOT NULL DEFAULT 0,
    delivered_at     timestamptz,
    last_error       text,
    dead_at          timestamptz,
    CONSTRAINT notification_outbox_delivered_or_dead CHECK (delivered_at IS NULL OR dead_at IS NULL)
);
-- What the relay claims: due, neither delivered nor dead.
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX notification_outbox_application ON notification_outbox (application_id, created_at);
