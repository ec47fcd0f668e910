package io.handoff.hub.persistence;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;

import javax.sql.DataSource;

import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.handoff.hub.support.HubTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** The compaction finds the embedded H2's store through the hub's pooled (Agroal) connections. */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class H2CompactionInTheHubTest {

    @Inject
    @Named("hubDataSource")
    DataSource dataSource;

    @ConfigProperty(name = "hub.db.kind")
    String dbKind;

    @Test
    void reachesTheStoreThroughThePool() throws Exception {
        assumeTrue("h2".equals(dbKind), "the embedded H2 only");
        try (Connection connection = dataSource.getConnection()) {
            assertTrue(H2Compaction.store(connection).filter(store -> !store.isClosed()).isPresent(),
                    "the hub's H2 is local to its JVM");
        }
    }
}
