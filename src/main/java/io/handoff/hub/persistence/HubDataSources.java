package io.handoff.hub.persistence;

import javax.sql.DataSource;

import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Named;
import jakarta.inject.Singleton;

import org.apache.camel.spi.IdempotentRepository;

import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.InjectableInstance;

/**
 * The hub's one database connection pool, whichever database is active: both the H2 and the PostgreSQL datasource
 * are built into the application, and {@code hub.db.kind} activates exactly one of them at run time (see
 * application.properties and docs/architecture.md). Routes use it as {@code #hubDataSource}.
 */
public class HubDataSources {

    /** processorName of webhook delivery ids in CAMEL_MESSAGEPROCESSED. */
    public static final String WEBHOOK_DELIVERIES = "webhook-intake";

    @Produces
    @Singleton
    @Named("hubDataSource")
    DataSource hubDataSource(@Any InjectableInstance<AgroalDataSource> dataSources) {
        return dataSources.getActive();
    }

    @Produces
    @Singleton
    @Named("webhookDeliveryRepository")
    IdempotentRepository webhookDeliveryRepository(@Named("hubDataSource") DataSource dataSource) {
        return new BatchedIdempotentRepository(dataSource, WEBHOOK_DELIVERIES);
    }
}
