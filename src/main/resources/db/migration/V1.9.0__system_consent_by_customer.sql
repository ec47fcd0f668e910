-- system_consent is read by customer (every system's state for a customer/channel/purpose, when planning) and written
-- by its whole key (a receipt, or the origin of a change); nothing reads it by system. Keyed by system first, each
-- write changed two randomly placed index entries (the key, and system_consent_customer); and an UPDATE rewrites
-- every index of the row (H2 removes and re-adds the row in each). Keyed by customer first, one index serves both,
-- and a customer's rows for all systems sit together, so the lanes' receipts for one change touch one place.
ALTER TABLE system_consent DROP CONSTRAINT system_consent_pk;
DROP INDEX system_consent_customer;
ALTER TABLE system_consent ADD CONSTRAINT system_consent_pk PRIMARY KEY (hub_id, channel, purpose, system);
