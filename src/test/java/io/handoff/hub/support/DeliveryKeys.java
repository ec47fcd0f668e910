package io.handoff.hub.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import javax.sql.DataSource;

/** Reads the webhook delivery keys the hub stored (CAMEL_MESSAGEPROCESSED). */
public final class DeliveryKeys {

    private DeliveryKeys() {
    }

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
}
