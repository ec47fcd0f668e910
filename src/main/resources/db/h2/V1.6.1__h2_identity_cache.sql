-- H2 only (quarkus.flyway.h2.locations). H2 persists an identity sequence by committing its whole store each time
-- the sequence's cache (32 values) runs out, and with WRITE_DELAY=0 each of those commits writes to the file: on the
-- hot tables that was one extra store write per 32 rows. The cache is kept in memory and shared by every session, so
-- ids stay in insertion order; after a crash the unused rest of the cache is skipped (gaps, never reuse).
-- Not for PostgreSQL: there each session caches its own range, which would break the id order the ledger's history
-- and the lanes' queue rely on.
ALTER TABLE consent_history ALTER COLUMN id SET CACHE 10000;
ALTER TABLE customer_merge ALTER COLUMN id SET CACHE 10000;
ALTER TABLE delivery ALTER COLUMN id SET CACHE 10000;
ALTER TABLE delivery_attempt ALTER COLUMN id SET CACHE 10000;
ALTER TABLE address_history ALTER COLUMN id SET CACHE 10000;
ALTER TABLE address_decision ALTER COLUMN id SET CACHE 10000;
ALTER TABLE feed_sample ALTER COLUMN id SET CACHE 10000;
