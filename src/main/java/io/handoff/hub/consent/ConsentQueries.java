package io.handoff.hub.consent;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.springframework.jdbc.core.JdbcTemplate;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.persistence.Sql;
import io.handoff.hub.propagation.DeliveryViews;
import io.handoff.hub.support.ClientErrorException;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.JsonAnswers;
import io.handoff.hub.support.Pii;

/**
 * Reads of the ledger for the admin API: a customer's consent with its full history and ids
 * ({@code GET /api/customers/{email}/consent}), and the yes/no a sender asks at send time
 * ({@code GET /api/may-send?email=&channel=&purpose=}). Answers come from the ledger alone: no state on record
 * means no consent, so the answer is no.
 */
@ApplicationScoped
@Named("consentQueries")
public class ConsentQueries {

    static final Pattern EMAIL = Pattern.compile("[^@\\s]{1,64}@[^@\\s]+\\.[^@\\s]+");
    static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,62}");

    private final JdbcTemplate jdbc;
    private final IdentityResolver identity;
    private final DeliveryViews deliveries;

    public ConsentQueries(@Named("hubDataSource") DataSource dataSource, IdentityResolver identity,
            DeliveryViews deliveries) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.identity = identity;
        this.deliveries = deliveries;
    }

    public void customerConsent(Exchange exchange) {
        String email = email(exchange.getMessage().getHeader("email", String.class));
        String hubId = identity.byEmail(email).orElseThrow(
                () -> new ClientErrorException(404, "unknown_customer", "the ledger holds no customer with this email"));
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("hubId", hubId);
        body.put("email", email);
        ObjectNode ids = body.putObject("systemIds");
        identity.systemIds(hubId).forEach((system, list) -> list.forEach(ids.putArray(system)::add));
        ArrayNode consent = body.putArray("consent");
        jdbc.query("SELECT channel, purpose, state, reason, source_system, event_source, event_id, event_time,"
                + " updated_at FROM consent_state WHERE hub_id = ? ORDER BY channel, purpose", rs -> {
                    ObjectNode row = consent.addObject();
                    row.put("channel", rs.getString("channel"));
                    row.put("purpose", rs.getString("purpose"));
                    row.put("state", rs.getString("state"));
                    row.put("reason", rs.getString("reason"));
                    row.put("since", Sql.instant(rs, "event_time").toString());
                    row.put("sourceSystem", rs.getString("source_system"));
                    row.putObject("event").put("source", rs.getString("event_source")).put("id", rs.getString("event_id"));
                    row.put("updatedAt", Sql.instant(rs, "updated_at").toString());
                }, hubId);
        ArrayNode history = body.putArray("history");
        jdbc.query("SELECT channel, purpose, state, reason, source_system, event_source, event_id, event_time,"
                + " received_at, decision, rule, changed, previous_state, recorded_at FROM consent_history"
                + " WHERE hub_id = ? ORDER BY id", rs -> {
                    ObjectNode row = history.addObject();
                    row.put("recordedAt", Sql.instant(rs, "recorded_at").toString());
                    row.put("channel", rs.getString("channel"));
                    row.put("purpose", rs.getString("purpose"));
                    row.put("state", rs.getString("state"));
                    row.put("reason", rs.getString("reason"));
                    row.put("sourceSystem", rs.getString("source_system"));
                    row.putObject("event").put("source", rs.getString("event_source")).put("id", rs.getString("event_id"));
                    row.put("eventTime", Sql.instant(rs, "event_time").toString());
                    row.put("receivedAt", Sql.instant(rs, "received_at").toString());
                    row.put("decision", rs.getString("decision"));
                    row.put("rule", rs.getString("rule"));
                    row.put("changed", rs.getBoolean("changed"));
                    row.put("previousState", rs.getString("previous_state"));
                }, hubId);
        ArrayNode merges = body.putArray("merges");
        jdbc.query("SELECT merged_hub_id, merged_system_ids, event_source, event_id, recorded_at FROM customer_merge"
                + " WHERE survivor_hub_id = ? ORDER BY id", rs -> {
                    ObjectNode row = merges.addObject();
                    row.put("mergedHubId", rs.getString("merged_hub_id"));
                    try {
                        row.set("mergedSystemIds", Json.MAPPER.readTree(rs.getString("merged_system_ids")));
                    } catch (java.io.IOException e) {
                        row.put("mergedSystemIds", rs.getString("merged_system_ids"));
                    }
                    row.putObject("event").put("source", rs.getString("event_source")).put("id", rs.getString("event_id"));
                    row.put("recordedAt", Sql.instant(rs, "recorded_at").toString());
                }, hubId);
        // Each system's receipt of every change: when it confirmed, the delay from the webhook, the call and answer.
        body.set("receipts", deliveries.receiptsOf(hubId));
        JsonAnswers.answer(exchange, 200, body);
    }

    public void maySend(Exchange exchange) {
        String email = email(exchange.getMessage().getHeader("email", String.class));
        String channel = Optional.ofNullable(exchange.getMessage().getHeader("channel", String.class)).orElse("email");
        String purpose = Optional.ofNullable(exchange.getMessage().getHeader("purpose", String.class))
                .orElse("marketing");
        if (!channel.equals("email") && !channel.equals("sms")) {
            throw new ClientErrorException(400, "invalid_channel", "channel must be email or sms");
        }
        if (!NAME.matcher(purpose).matches()) {
            throw new ClientErrorException(400, "invalid_purpose", "purpose must be a lower-case name");
        }
        ObjectNode body = Json.MAPPER.createObjectNode().put("channel", channel).put("purpose", purpose);
        Optional<String> hubId = identity.byEmail(email);
        List<ObjectNode> state = hubId.isEmpty() ? List.of()
                : jdbc.query("SELECT state, reason, event_time, source_system FROM consent_state"
                        + " WHERE hub_id = ? AND channel = ? AND purpose = ?", (rs, i) -> {
                            ObjectNode s = Json.MAPPER.createObjectNode();
                            s.put("state", rs.getString("state"));
                            s.put("reason", rs.getString("reason"));
                            s.put("since", Sql.instant(rs, "event_time").toString());
                            s.put("sourceSystem", rs.getString("source_system"));
                            return s;
                        }, hubId.get(), channel, purpose);
        if (state.isEmpty()) {
            body.put("maySend", false).put("state", (String) null).put("why", "no consent on record");
        } else {
            ObjectNode held = state.get(0);
            body.put("maySend", "subscribed".equals(held.get("state").asText()));
            body.setAll(held);
        }
        JsonAnswers.answer(exchange, 200, body);
    }

    public static String email(String raw) {
        String email = Pii.normaliseEmail(raw);
        if (email == null || email.length() > 320 || !EMAIL.matcher(email).matches()) {
            throw new ClientErrorException(400, "invalid_email", "email is missing or not an email address");
        }
        return email;
    }
}
