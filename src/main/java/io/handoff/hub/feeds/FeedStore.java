package io.handoff.hub.feeds;

import java.time.Clock;
import java.time.Instant;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.persistence.Sql;

/**
 * The data segments are evaluated from: orders and their lines per channel, inventory levels, waitlists, loyalty tiers
 * and promotion eligibility. Every write is an upsert decided by event time, so redeliveries and late events never
 * move a row back in time.
 */
@ApplicationScoped
public class FeedStore {

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final Clock clock = Clock.systemUTC();

    public FeedStore(@Named("hubDataSource") DataSource dataSource) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    /** An order with its lines ({@code order.placed} data), replacing what was stored for it. */
    public void order(String system, String hubId, Instant placedAt, String eventId, JsonNode data) {
        String orderId = data.path("order").path("id").asText();
        // A cancelled order is kept, marked, and does not count as a purchase.
        String status = data.path("order").hasNonNull("cancelledAt") ? "cancelled"
                : text(data.path("order"), "financialStatus");
        transactions.executeWithoutResult(tx -> {
            Object[] update = { hubId, Sql.timestamp(placedAt), status, eventId, Sql.timestamp(clock.instant()),
                system, orderId };
            String sql = "UPDATE feed_order SET hub_id = COALESCE(?, hub_id), placed_at = ?, status = ?, event_id = ?,"
                    + " updated_at = ? WHERE system = ? AND order_id = ?";
            if (jdbc.update(sql, update) == 0 && jdbc.update("INSERT INTO feed_order (system, order_id, hub_id,"
                    + " placed_at, status, event_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    system, orderId, hubId, Sql.timestamp(placedAt), status, eventId,
                    Sql.timestamp(clock.instant())) == 0) {
                jdbc.update(sql, update);
            }
            jdbc.update("DELETE FROM feed_order_line WHERE system = ? AND order_id = ?", system, orderId);
            int n = 0;
            for (JsonNode line : data.path("lines")) {
                jdbc.update("INSERT INTO feed_order_line (system, order_id, line_no, sku, quantity) VALUES (?, ?, ?, ?,"
                        + " ?)", system, orderId, n++, text(line, "sku"), line.path("quantity").asInt(0));
            }
        });
    }

    /** A stock level ({@code inventory.changed}): kept unless a newer event already set it. */
    public void inventory(String system, Instant eventTime, JsonNode data) {
        String item = data.hasNonNull("sku") ? data.get("sku").asText()
                : system + ":item:" + data.path("inventoryItemId").asText();
        String location = data.hasNonNull("locationId") ? data.get("locationId").asText() : "*";
        Integer available = data.path("available").isIntegralNumber() ? data.get("available").asInt() : null;
        upsert("UPDATE feed_inventory SET available = ?, source_system = ?, event_time = ?, updated_at = ?"
                + " WHERE item = ? AND location = ? AND event_time < ?",
                new Object[] { available, system, Sql.timestamp(eventTime), Sql.timestamp(clock.instant()), item,
                    location, Sql.timestamp(eventTime) },
                "INSERT INTO feed_inventory (item, location, available, source_system, event_time, updated_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                new Object[] { item, location, available, system, Sql.timestamp(eventTime),
                    Sql.timestamp(clock.instant()) });
    }

    /** A back-in-stock sign-up; the earliest sign-up time of a customer and SKU is kept. */
    public void waitlist(String hubId, String sku, Instant joinedAt, String system) {
        upsert("UPDATE feed_waitlist SET joined_at = ? WHERE hub_id = ? AND sku = ? AND joined_at > ?",
                new Object[] { Sql.timestamp(joinedAt), hubId, sku, Sql.timestamp(joinedAt) },
                "INSERT INTO feed_waitlist (hub_id, sku, joined_at, source_system) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT DO NOTHING",
                new Object[] { hubId, sku, Sql.timestamp(joinedAt), system });
    }

    public void loyaltyTier(String hubId, String program, String tier, Long points, Instant eventTime) {
        upsert("UPDATE feed_loyalty_tier SET tier = ?, points = ?, event_time = ? WHERE hub_id = ? AND program = ?"
                + " AND event_time < ?",
                new Object[] { tier, points, Sql.timestamp(eventTime), hubId, program, Sql.timestamp(eventTime) },
                "INSERT INTO feed_loyalty_tier (hub_id, program, tier, points, event_time) VALUES (?, ?, ?, ?, ?)"
                        + " ON CONFLICT DO NOTHING",
                new Object[] { hubId, program, tier, points, Sql.timestamp(eventTime) });
    }

    public void promotion(String hubId, String promotionId, boolean eligible, Instant validUntil, Instant eventTime) {
        upsert("UPDATE feed_promotion SET eligible = ?, valid_until = ?, event_time = ? WHERE hub_id = ?"
                + " AND promotion_id = ? AND event_time < ?",
                new Object[] { eligible, Sql.timestamp(validUntil), Sql.timestamp(eventTime), hubId, promotionId,
                    Sql.timestamp(eventTime) },
                "INSERT INTO feed_promotion (hub_id, promotion_id, eligible, valid_until, event_time) VALUES (?, ?, ?,"
                        + " ?, ?) ON CONFLICT DO NOTHING",
                new Object[] { hubId, promotionId, eligible, Sql.timestamp(validUntil), Sql.timestamp(eventTime) });
    }

    /**
     * Update-if-newer, else insert-if-absent: an existing newer row makes both a no-op; two replicas inserting at once
     * meet at the primary key, and the loser's update then applies its row if it is newer.
     */
    private void upsert(String update, Object[] updateArgs, String insert, Object[] insertArgs) {
        if (jdbc.update(update, updateArgs) == 0 && jdbc.update(insert, insertArgs) == 0) {
            jdbc.update(update, updateArgs);
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }
}
