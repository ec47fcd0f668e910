package io.handoff.hub.persistence;

import javax.sql.DataSource;

import org.apache.camel.processor.idempotent.jdbc.JdbcMessageIdRepository;
import org.springframework.dao.DataIntegrityViolationException;

/**
 * Camel's JDBC idempotent repository, made safe for several hub replicas on one database. Its {@code add} counts and
 * then inserts; two replicas claiming the same key at once both count zero, and the second insert hits the primary
 * key of CAMEL_MESSAGEPROCESSED (created by the Flyway migration, never by Camel). That collision means "already
 * claimed", so it answers false (a duplicate) instead of failing the delivery.
 */
public class SqlIdempotentRepository extends JdbcMessageIdRepository {

    public SqlIdempotentRepository(DataSource dataSource, String processorName) {
        super(dataSource, processorName);
        // The table comes from db/migration; Camel's own CREATE would race with Flyway.
        setCreateTableIfNotExists(false);
    }

    @Override
    public boolean add(String key) {
        try {
            return super.add(key);
        } catch (DataIntegrityViolationException concurrentClaim) {
            return false;
        }
    }
}
