-- Outbox claims are leases: a relay marks the rows it is sending with locked_until in one short statement,
-- sends with no transaction open, then records each outcome on its own. Another relay skips a row until its
-- lease ends; a relay that died mid-send leaves a lease that ends, and the row is sent again (same key).
ALTER TABLE notification_outbox ADD COLUMN IF NOT EXISTS locked_until timestamptz;
