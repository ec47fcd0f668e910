-- When the hub first ran with a feed in its registry: a feed that has delivered nothing yet is not silent before its
-- first record or run is due (cadence plus tolerance after this), so a fresh install raises no false alarms.
-- Set at start-up for every registered feed that has none.
ALTER TABLE feed_state ADD COLUMN configured_at TIMESTAMP WITH TIME ZONE;
-- Feeds an earlier version already judged keep being judged as before (no grace): the epoch, not the upgrade's time.
UPDATE feed_state SET configured_at = TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00';
