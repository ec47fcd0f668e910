-- Idempotency keys of Camel's JDBC idempotent repository (one row per processor and key).
-- Created here, not by Camel: the primary key is what keeps two replicas from claiming the same
-- webhook delivery twice (Camel's repository counts, then inserts). Runs on H2 and PostgreSQL.
CREATE TABLE camel_messageprocessed (
    processorName VARCHAR(255) NOT NULL,
    messageId     VARCHAR(255) NOT NULL,
    createdAt     TIMESTAMP    NOT NULL,
    CONSTRAINT camel_messageprocessed_pk PRIMARY KEY (processorName, messageId)
);

-- The retention clean-up deletes by age.
CREATE INDEX camel_messageprocessed_created ON camel_messageprocessed (createdAt);
