package io.handoff.hub.address;

import java.io.IOException;
import java.time.OffsetDateTime;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.consent.ConsentQueries;
import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.support.ClientErrorException;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.JsonAnswers;

/**
 * {@code GET /api/customers/{email}/addresses} (admin token): the master address per field as the CRM holds it (with
 * where it came from and whether the CRM confirmed it), the address history (every address seen, with its
 * verification), and every write-back decision with its rule and reason and the delivery's status. {@code limit}
 * (default 100, at most 1000) caps history and decisions, newest first.
 */
@ApplicationScoped
@Named("addressAdmin")
public class AddressAdmin {

    private final IdentityResolver identity;
    private final AddressStore store;

    public AddressAdmin(IdentityResolver identity, AddressStore store) {
        this.identity = identity;
        this.store = store;
    }

    public void customerAddresses(Exchange exchange) {
        String email = ConsentQueries.email(exchange.getMessage().getHeader("email", String.class));
        int limit = limit(exchange.getMessage().getHeader("limit", String.class));
        String hubId = identity.byEmail(email).orElseThrow(
                () -> new ClientErrorException(404, "unknown_customer", "the hub holds no customer with this email"));
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("hubId", hubId);
        body.put("email", email);
        ObjectNode master = body.putObject("master");
        for (Map<String, Object> row : store.masterRows(hubId)) {
            ObjectNode field = master.putObject((String) row.get("field"));
            field.set("address", json(row.get("address")));
            field.put("valueHash", (String) row.get("value_hash"));
            field.put("eventTime", time(row.get("event_time")));
            field.put("sourceSystem", (String) row.get("source_system"));
            field.put("eventId", (String) row.get("event_id"));
            field.put("origin", (String) row.get("origin"));
            field.put("updatedAt", time(row.get("updated_at")));
            field.put("confirmedAt", time(row.get("confirmed_at")));
            field.put("version", ((Number) row.get("version")).longValue());
        }
        ArrayNode history = body.putArray("history");
        for (Map<String, Object> row : store.historyRows(hubId, limit)) {
            ObjectNode h = history.addObject();
            h.put("field", (String) row.get("field"));
            h.put("sourceSystem", (String) row.get("source_system"));
            h.put("eventId", (String) row.get("event_id"));
            h.put("eventType", (String) row.get("event_type"));
            h.put("eventTime", time(row.get("event_time")));
            h.put("receivedAt", time(row.get("received_at")));
            h.set("address", json(row.get("address")));
            h.put("valueHash", (String) row.get("value_hash"));
            ObjectNode v = h.putObject("verification");
            v.put("validator", (String) row.get("validator"));
            v.put("level", (String) row.get("level"));
            v.put("score", ((Number) row.get("score")).intValue());
            v.put("verdict", (String) row.get("verdict"));
        }
        ArrayNode decisions = body.putArray("decisions");
        for (Map<String, Object> row : store.decisionRows(hubId, limit)) {
            ObjectNode d = decisions.addObject();
            d.put("decidedAt", time(row.get("decided_at")));
            d.put("field", (String) row.get("field"));
            d.put("eventId", (String) row.get("event_id"));
            d.put("sourceSystem", (String) row.get("source_system"));
            d.put("targetSystem", (String) row.get("target_system"));
            d.put("eventTime", time(row.get("event_time")));
            d.put("valueHash", (String) row.get("value_hash"));
            d.put("outcome", (String) row.get("outcome"));
            d.put("rule", (String) row.get("rule"));
            d.put("reason", (String) row.get("reason"));
            if (row.get("delivery_id") != null) {
                ObjectNode delivery = d.putObject("delivery");
                delivery.put("id", ((Number) row.get("delivery_id")).longValue());
                delivery.put("status", (String) row.get("delivery_status"));
                delivery.put("confirmedAt", time(row.get("delivery_confirmed_at")));
            }
        }
        JsonAnswers.answer(exchange, 200, body);
    }

    static int limit(String raw) {
        if (raw == null || raw.isBlank()) {
            return 100;
        }
        try {
            int limit = Integer.parseInt(raw.strip());
            if (limit >= 1 && limit <= 1000) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new ClientErrorException(400, "invalid_limit", "limit must be a number from 1 to 1000");
    }

    private static JsonNode json(Object text) {
        try {
            return Json.MAPPER.readTree((String) text);
        } catch (IOException e) {
            return Json.MAPPER.getNodeFactory().textNode((String) text);
        }
    }

    private static String time(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof OffsetDateTime odt) {
            return odt.toInstant().toString();
        }
        if (value instanceof java.sql.Timestamp ts) {
            return ts.toInstant().toString();
        }
        return value.toString();
    }
}
