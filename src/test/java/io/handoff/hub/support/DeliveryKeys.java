package io.handoff.hub.support;

import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

import javax.sql.DataSource;

import jakarta.enterprise.inject.literal.NamedLiteral;

import org.apache.camel.spi.IdempotentRepository;

import io.quarkus.arc.Arc;

/**
 * The webhook delivery keys the hub holds: stored (CAMEL_MESSAGEPROCESSED), or acknowledged and waiting for their
 * batch (BatchedIdempotentRepository).
 */
public final class DeliveryKeys {

    private DeliveryKeys() {
    }

    /** The rows of a key. */
    public static int count(DataSource dataSource, String deliveryKey) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "SELECT COUNT(*) FROM camel_messageprocessed WHERE processorName = 'webhook-intake' AND messageId = ?")) {
            s.setString(1, deliveryKey);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The rows of a key, once its batch has stored it (at most 10 s). */
    public static int stored(DataSource dataSource, String deliveryKey) {
        await().atMost(Duration.ofSeconds(10)).until(() -> count(dataSource, deliveryKey) > 0);
        return count(dataSource, deliveryKey);
    }

    /** Whether the hub in this JVM holds the key, stored or still queued: what its next check of the key answers. */
    public static boolean held(String deliveryKey) {
        return Arc.container().select(IdempotentRepository.class, NamedLiteral.of("webhookDeliveryRepository")).get()
                .contains(deliveryKey);
    }
}
