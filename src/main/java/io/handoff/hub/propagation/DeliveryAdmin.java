package io.handoff.hub.propagation;

import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.ClientErrorException;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.JsonAnswers;

/**
 * The deliveries part of the admin API: {@code GET /api/deliveries?status=failed&system=klaviyo&limit=100},
 * {@code POST /api/deliveries/{id}/replay} and {@code POST /api/deliveries/replay?system=klaviyo} (every parked
 * delivery of one system). A replay puts a failed delivery back in its lane with a fresh set of attempts; one that a
 * newer change of the same customer replaced is not sent (the system would go back in time) and is marked superseded.
 */
@ApplicationScoped
@Named("deliveryAdmin")
public class DeliveryAdmin {

    private static final Logger LOG = Logger.getLogger(DeliveryAdmin.class);
    static final Set<String> STATUSES = Set.of(Deliveries.PENDING, Deliveries.SENDING, Deliveries.DELIVERED,
            Deliveries.SKIPPED, Deliveries.SUPERSEDED, Deliveries.FAILED);
    static final int MAX_REPLAY = 10_000;

    private final Deliveries deliveries;
    private final DeliveryViews views;
    private final PropagationLanes lanes;

    public DeliveryAdmin(Deliveries deliveries, DeliveryViews views, PropagationLanes lanes) {
        this.deliveries = deliveries;
        this.views = views;
        this.lanes = lanes;
    }

    public void list(Exchange exchange) {
        String status = exchange.getMessage().getHeader("status", String.class);
        if (status != null && !STATUSES.contains(status)) {
            throw new ClientErrorException(400, "invalid_status", "status must be one of " + STATUSES);
        }
        String system = system(exchange, false);
        int limit = limit(exchange.getMessage().getHeader("limit", String.class));
        ArrayNode found = views.list(status, system, limit);
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("count", found.size());
        body.set("deliveries", found);
        JsonAnswers.answer(exchange, 200, body);
    }

    public void replay(Exchange exchange) {
        long id;
        try {
            id = Long.parseLong(exchange.getMessage().getHeader("id", String.class));
        } catch (NumberFormatException e) {
            throw new ClientErrorException(400, "invalid_id", "the delivery id must be a number");
        }
        Delivery d = deliveries.find(id)
                .orElseThrow(() -> new ClientErrorException(404, "unknown_delivery", "no delivery " + id));
        String status = deliveries.status(id).orElseThrow();
        if (!Deliveries.FAILED.equals(status)) {
            throw new ClientErrorException(409, "not_failed", "delivery " + id + " is " + status
                    + ": only failed deliveries are replayed");
        }
        ObjectNode body = Json.MAPPER.createObjectNode().put("id", id).put("system", d.system());
        body.put("status", replay(d));
        JsonAnswers.answer(exchange, 202, body);
    }

    public void replayParked(Exchange exchange) {
        String system = system(exchange, true);
        int replayed = 0;
        int superseded = 0;
        for (Long id : deliveries.failedIds(system, MAX_REPLAY)) {
            Optional<Delivery> d = deliveries.find(id);
            if (d.isEmpty()) {
                continue;
            }
            if (Deliveries.PENDING.equals(replay(d.get()))) {
                replayed++;
            } else {
                superseded++;
            }
        }
        ObjectNode body = Json.MAPPER.createObjectNode().put("system", system).put("replayed", replayed)
                .put("superseded", superseded);
        JsonAnswers.answer(exchange, 202, body);
    }

    /** Re-arms one failed delivery, or supersedes it; returns its new status. */
    private String replay(Delivery d) {
        Optional<Long> newer = deliveries.newerChange(d);
        if (newer.isPresent()) {
            deliveries.supersededBy(d.id(), newer.get());
            LOG.infof("delivery %d to %s not replayed: delivery %d carries a newer change", d.id(), d.system(), newer.get());
            return Deliveries.SUPERSEDED;
        }
        if (deliveries.rearm(d.id())) {
            LOG.infof("delivery %d to %s replayed", d.id(), d.system());
            lanes.wake(d.system());
            return Deliveries.PENDING;
        }
        return deliveries.status(d.id()).orElse(Deliveries.FAILED);
    }

    private String system(Exchange exchange, boolean required) {
        String system = exchange.getMessage().getHeader("system", String.class);
        if (system == null || system.isBlank()) {
            if (required) {
                throw new ClientErrorException(400, "missing_system", "name the system: ?system=<name>");
            }
            return null;
        }
        if (!system.matches("[a-z0-9][a-z0-9-]{0,62}")) {
            throw new ClientErrorException(400, "invalid_system", "system must be a lower-case system name");
        }
        return system;
    }

    static int limit(String raw) {
        if (raw == null) {
            return 100;
        }
        try {
            int limit = Integer.parseInt(raw);
            if (limit >= 1 && limit <= 1000) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new ClientErrorException(400, "invalid_limit", "limit must be between 1 and 1000");
    }
}
