package io.handoff.hub.persistence;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

import javax.sql.DataSource;

import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.junit.jupiter.api.Test;

import io.handoff.hub.support.DeliveryKeys;
import io.handoff.hub.support.HubTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** The delivery-key-cleanup route forgets ids older than the retention (168 h) and keeps younger ones. */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class DeliveryKeyCleanupTest {

    @Inject
    @Named("hubDataSource")
    DataSource dataSource;

    @Test
    void idsOlderThanTheRetentionAreForgottenYoungerOnesKept() throws SQLException {
        String old = "shopify:old-" + UUID.randomUUID();
        String young = "shopify:young-" + UUID.randomUUID();
        insert(old, Instant.now().minus(Duration.ofHours(169)));
        insert(young, Instant.now().minus(Duration.ofHours(167)));

        await().atMost(Duration.ofSeconds(15)).until(() -> DeliveryKeys.count(dataSource, old) == 0);
        assertEquals(1, DeliveryKeys.count(dataSource, young));
    }

    @Test
    void aPeriodAnotherReplicaClaimedIsLeftToIt() throws SQLException {
        // Another replica claims the next 6 s of the clean-up's slots (500 ms in the test profile; claims are kept to
        // the second): this replica's timer keeps firing and deletes nothing until those slots have passed.
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        for (int s = 0; s <= 6; s++) {
            claim(now.plusSeconds(s));
        }
        String old = "shopify:old-" + UUID.randomUUID();
        insert(old, Instant.now().minus(Duration.ofHours(169)));
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4))
                .until(() -> DeliveryKeys.count(dataSource, old) == 1);
        await().atMost(Duration.ofSeconds(15)).until(() -> DeliveryKeys.count(dataSource, old) == 0);
    }

    private void claim(Instant second) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(
                "INSERT INTO scheduled_fire (job, fire_time, claimed_by, claimed_at) VALUES ('delivery-key-cleanup', ?,"
                        + " 'another-replica', ?) ON CONFLICT DO NOTHING")) {
            s.setObject(1, Sql.timestamp(second));
            s.setObject(2, Sql.timestamp(Instant.now()));
            s.executeUpdate();
        }
    }

    private void insert(String key, Instant createdAt) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(
                "INSERT INTO camel_messageprocessed (processorName, messageId, createdAt) VALUES ('webhook-intake', ?, ?)")) {
            s.setString(1, key);
            s.setTimestamp(2, Timestamp.from(createdAt));
            s.executeUpdate();
        }
    }
}
