package io.handoff.hub.propagation;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.springframework.jdbc.core.JdbcTemplate;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.persistence.Sql;
import io.handoff.hub.support.Json;

/**
 * Receipts as JSON, for the admin API and the dead-letter records: per delivery the change, the system, the status,
 * the last request (method, URL, body; credentials never: they are headers) and answer, every attempt, when the
 * system confirmed and the delay from the hub's receipt of the original webhook.
 */
@ApplicationScoped
public class DeliveryViews {

    static final String RECEIPT_COLUMNS = "id, change_id, system, kind, hub_id, channel, purpose, state, reason, email,"
            + " system_id, origin_system, origin_event, event_time, received_at, planned_at, status, status_reason,"
            + " attempts, next_attempt_at, request_method, request_url, request_body, response_status, response_body,"
            + " last_error, confirmed_at, parked_at, replays";

    private final JdbcTemplate jdbc;

    public DeliveryViews(@Named("hubDataSource") DataSource dataSource) {
        this.jdbc = new JdbcTemplate(dataSource);
    }

    public Optional<ObjectNode> receipt(long id) {
        List<ObjectNode> found = jdbc.query("SELECT " + RECEIPT_COLUMNS + " FROM delivery WHERE id = ?",
                DeliveryViews::receiptRow, id);
        found.forEach(this::addAttempts);
        return found.stream().findFirst();
    }

    /** Every receipt of one customer, newest change first. */
    public ArrayNode receiptsOf(String hubId) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        jdbc.query("SELECT " + RECEIPT_COLUMNS + " FROM delivery WHERE id IN (SELECT id FROM delivery_key"
                + " WHERE hub_id = ?) ORDER BY id DESC",
                (rs, i) -> receiptRow(rs, i), hubId).forEach(out::add);
        return out;
    }

    /** Receipts filtered by status and system (either may be null), newest first. */
    public ArrayNode list(String status, String system, int limit) {
        List<Object> args = new ArrayList<>();
        StringBuilder sql = new StringBuilder("SELECT " + RECEIPT_COLUMNS + " FROM delivery WHERE 1 = 1");
        if (status != null) {
            sql.append(" AND status = ?");
            args.add(status);
        }
        if (system != null) {
            sql.append(" AND system = ?");
            args.add(system);
        }
        sql.append(" ORDER BY id DESC LIMIT ?");
        args.add(limit);
        ArrayNode out = Json.MAPPER.createArrayNode();
        jdbc.query(sql.toString(), DeliveryViews::receiptRow, args.toArray()).forEach(out::add);
        return out;
    }

    private void addAttempts(ObjectNode receipt) {
        ArrayNode attempts = receipt.putArray("attemptLog");
        jdbc.query("SELECT attempt, attempted_at, duration_ms, response_status, outcome, error FROM delivery_attempt"
                + " WHERE delivery_id = ? ORDER BY id", rs -> {
                    ObjectNode a = attempts.addObject();
                    a.put("attempt", rs.getInt("attempt"));
                    a.put("at", Sql.instant(rs, "attempted_at").toString());
                    a.put("durationMs", rs.getLong("duration_ms"));
                    putInt(a, "responseStatus", rs, "response_status");
                    a.put("outcome", rs.getString("outcome"));
                    a.put("error", rs.getString("error"));
                }, receipt.path("id").asLong());
    }

    static ObjectNode receiptRow(ResultSet rs, int i) throws SQLException {
        ObjectNode r = Json.MAPPER.createObjectNode();
        r.put("id", rs.getLong("id"));
        r.put("changeId", rs.getString("change_id"));
        r.put("system", rs.getString("system"));
        r.put("kind", rs.getString("kind"));
        r.put("hubId", rs.getString("hub_id"));
        r.put("channel", rs.getString("channel"));
        r.put("purpose", rs.getString("purpose"));
        r.put("state", rs.getString("state"));
        r.put("reason", rs.getString("reason"));
        r.put("email", rs.getString("email"));
        r.put("systemId", rs.getString("system_id"));
        r.put("originSystem", rs.getString("origin_system"));
        r.put("originEvent", rs.getString("origin_event"));
        r.put("eventTime", text(Sql.instant(rs, "event_time")));
        Instant received = Sql.instant(rs, "received_at");
        r.put("receivedAt", text(received));
        r.put("plannedAt", text(Sql.instant(rs, "planned_at")));
        r.put("status", rs.getString("status"));
        r.put("statusReason", rs.getString("status_reason"));
        r.put("attempts", rs.getInt("attempts"));
        r.put("nextAttemptAt", text(Sql.instant(rs, "next_attempt_at")));
        Instant confirmed = Sql.instant(rs, "confirmed_at");
        r.put("confirmedAt", text(confirmed));
        if (confirmed != null && received != null) {
            r.put("delayMs", Duration.between(received, confirmed).toMillis());
        } else {
            r.putNull("delayMs");
        }
        ObjectNode request = r.putObject("request");
        request.put("method", rs.getString("request_method"));
        request.put("url", rs.getString("request_url"));
        request.put("body", rs.getString("request_body"));
        ObjectNode answer = r.putObject("answer");
        putInt(answer, "status", rs, "response_status");
        answer.put("body", rs.getString("response_body"));
        answer.put("error", rs.getString("last_error"));
        r.put("parkedAt", text(Sql.instant(rs, "parked_at")));
        r.put("replays", rs.getInt("replays"));
        return r;
    }

    /** An integer column that may be NULL, as a JSON number or null. */
    private static void putInt(ObjectNode node, String field, ResultSet rs, String column) throws SQLException {
        int value = rs.getInt(column);
        if (rs.wasNull()) {
            node.putNull(field);
        } else {
            node.put(field, value);
        }
    }

    private static String text(Instant instant) {
        return instant == null ? null : instant.toString();
    }
}
