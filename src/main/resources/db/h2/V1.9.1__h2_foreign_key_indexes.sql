-- H2 only (quarkus.flyway.h2.locations). H2 gives a foreign key an index of its own unless an index on exactly its
-- columns exists when the key is added. customer_system_id's key was added with its table, before the index
-- customer_system_id_hub on the same column, so the table had two identical indexes on hub_id, both written by every
-- insert (and both randomly placed: hub ids are random). Added again now, the key uses customer_system_id_hub.
-- (consent_state's and delivery_attempt's keys keep their own one-column index: H2 does not use a longer index for
-- a key.) PostgreSQL creates no index for a foreign key, so there is nothing to undo there.
ALTER TABLE customer_system_id DROP CONSTRAINT customer_system_id_customer_fk;
ALTER TABLE customer_system_id ADD CONSTRAINT customer_system_id_customer_fk FOREIGN KEY (hub_id) REFERENCES customer (hub_id);
