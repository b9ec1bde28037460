-- Accounts and roles: applicant organisations, and the accounts that call the API with a
-- bearer token. Only sha256(token) is kept; `token_prefix` (the token's first 8 characters)
-- lets a person tell their tokens apart in `jfc accounts list`.

CREATE TABLE organisations (
    id          text PRIMARY KEY,                 -- ORG-XXXXXXXX
    name        text NOT NULL CHECK (btrim(name) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- One organisation per name, whatever the letter case ("PT Contoh Film" = "pt contoh film").
CREATE UNIQUE INDEX organisations_name ON organisations (lower(name));

CREATE TABLE accounts (
    id               text PRIMARY KEY,            -- ACC-XXXXXXXX
    name             text NOT NULL CHECK (btrim(name) <> ''),
    role             text NOT NULL CHECK (role IN ('applicant', 'officer', 'agency', 'auditor')),
    organisation_id  text REFERENCES organisations (id),
    agency           text,                        -- an agency code of the catalog
    token_hash       text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    token_prefix     text NOT NULL CHECK (length(token_prefix) = 8),
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz,
    last_used_at     timestamptz,
    -- an applicant acts for exactly one organisation; no other role belongs to one
    CONSTRAINT accounts_organisation_iff_applicant CHECK ((role = 'applicant') = (organisation_id IS NOT NULL)),
    -- an agency clerk acts for exactly one agency; no other role names one
    CONSTRAINT accounts_agency_iff_agency_role CHECK ((role = 'agency') = (agency IS NOT NULL))
);
CREATE INDEX accounts_organisation ON accounts (organisation_id) WHERE organisation_id IS NOT NULL;
