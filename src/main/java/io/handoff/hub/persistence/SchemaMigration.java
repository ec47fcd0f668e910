package io.handoff.hub.persistence;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Any;
import jakarta.interceptor.Interceptor;

import org.apache.camel.quarkus.main.events.BeforeInitialize;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.jboss.logging.Logger;

import io.quarkus.arc.InjectableInstance;

/**
 * Makes sure the active database is migrated before Camel starts a route or a bean reads a table. Quarkus migrates
 * it at start ({@code quarkus.flyway.*.migrate-at-start}); this asks Flyway again, which costs one read of the schema
 * history when that happened. It did not always happen: in CI, 2 of 4 suite runs had one application start (of a
 * dozen) where Quarkus' Flyway start action logged nothing and applied nothing, and the first query found no table.
 * Such a start is now migrated here, with a warning saying so.
 */
@ApplicationScoped
public class SchemaMigration {

    private static final Logger LOG = Logger.getLogger(SchemaMigration.class);

    private final InjectableInstance<Flyway> flyways;

    public SchemaMigration(@Any InjectableInstance<Flyway> flyways) {
        this.flyways = flyways;
    }

    /** After the start-up checks (a refused start migrates nothing), before anything else of the hub runs. */
    void beforeCamelInitializes(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 10) BeforeInitialize event) {
        MigrateResult result = flyways.getActive().migrate();
        if (result.migrationsExecuted > 0) {
            LOG.warnf("the database had not been migrated at start; applied %d migrations now (schema version %s)",
                    result.migrationsExecuted, result.targetSchemaVersion);
        }
    }
}
