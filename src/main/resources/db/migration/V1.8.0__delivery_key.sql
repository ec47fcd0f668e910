-- The lookups of a delivery by change and by customer move to a table of their own, written once when the delivery is
-- planned and never updated. A lane updates each delivery row twice (the claim, the receipt), and H2 rewrites every
-- index of a row it updates, also those whose columns did not change (Table.updateRows removes and re-adds the row in
-- each); PostgreSQL adds a new entry to every index when an update changes an indexed column (here status and
-- next_attempt_at, in delivery_due). The two lookup indexes are keyed at random (event ids, customer ids), so each
-- update wrote a random leaf page of each of them: at 200 receipts per commit, some 400 pages (docs/benchmarks.md,
-- "The ledger step's writes to storage"). Now an update of a delivery writes its primary key and delivery_due pages
-- only, which a lane's batch shares.
--
-- The columns stay on delivery too (they never change, so the two copies cannot disagree); only the indexes move.
-- delivery_key.id is the delivery's id. A delivery is planned with both rows in one transaction, and the unique key
-- here is what makes a redelivered ledger event plan nothing twice (Deliveries.insertNew).
CREATE TABLE delivery_key (
    id         BIGINT       NOT NULL,
    change_id  VARCHAR(128) NOT NULL,
    system     VARCHAR(63)  NOT NULL,
    kind       VARCHAR(16)  NOT NULL,
    hub_id     VARCHAR(36)  NOT NULL,
    channel    VARCHAR(16)  NOT NULL,
    purpose    VARCHAR(63)  NOT NULL,
    CONSTRAINT delivery_key_pk PRIMARY KEY (id),
    CONSTRAINT delivery_key_change_uk UNIQUE (change_id, system),
    CONSTRAINT delivery_key_delivery_fk FOREIGN KEY (id) REFERENCES delivery (id)
);
-- Receipts of one customer (admin API), supersede checks and the lanes' order per customer and system.
CREATE INDEX delivery_key_customer ON delivery_key (hub_id, system, channel, purpose, kind, id);

INSERT INTO delivery_key (id, change_id, system, kind, hub_id, channel, purpose)
    SELECT id, change_id, system, kind, hub_id, channel, purpose FROM delivery;

ALTER TABLE delivery DROP CONSTRAINT delivery_change_uk;
DROP INDEX delivery_customer;
