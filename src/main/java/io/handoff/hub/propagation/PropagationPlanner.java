package io.handoff.hub.propagation;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;
import org.springframework.jdbc.core.JdbcTemplate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.consent.ConsentLedger;
import io.handoff.hub.consent.ConsentRules.Held;
import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.kafka.KafkaBatches;
import io.handoff.hub.persistence.Sql;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Turns the ledger's events into deliveries, one per subscriber system; a poll's events are planned in one
 * transaction ({@link #applyBatch}):
 * <ul>
 * <li>{@code consent.applied}: every switched-on system but the one the change came from (recorded as holding the
 * new state) gets the change; a system already confirmed in that state, with nothing of this customer on its way,
 * gets a skipped receipt instead of a call. An older change still waiting for the same system is superseded: only
 * the newest state goes out.</li>
 * <li>{@code customer.merge.applied}: each system that held an id of the merged customer (and, for systems keyed by
 * email, the merged customer's own email) gets the survivor's combined consent for that record, so the duplicate
 * stops being mailable there too.</li>
 * </ul>
 * A redelivered ledger event plans nothing twice (unique change x system).
 */
@ApplicationScoped
@Named("propagationPlanner")
public class PropagationPlanner {

    private static final Logger LOG = Logger.getLogger(PropagationPlanner.class);

    private final CanonicalEventCodec codec;
    private final Deliveries deliveries;
    private final PropagationLanes lanes;
    private final IdentityResolver identity;
    private final ConsentLedger ledger;
    private final JdbcTemplate jdbc;
    private final Clock clock = Clock.systemUTC();

    public PropagationPlanner(CanonicalEventCodec codec, Deliveries deliveries, PropagationLanes lanes,
            IdentityResolver identity, ConsentLedger ledger, @Named("hubDataSource") DataSource dataSource) {
        this.codec = codec;
        this.deliveries = deliveries;
        this.lanes = lanes;
        this.identity = identity;
        this.ledger = ledger;
        this.jdbc = new JdbcTemplate(dataSource);
    }

    /** Camel entry point for one record of the ledger topic. */
    public void applyRecord(Exchange exchange) {
        planAll(List.of(codec.read(exchange))).forEach(lanes::wake);
    }

    /**
     * Camel entry point of the batching consumer: plans a poll's ledger events in one transaction, then wakes the
     * lanes with work. A record that cannot be read, or fails on its own, is set aside for the dead-letter topic
     * ({@link KafkaBatches}).
     */
    public void applyBatch(Exchange batch) {
        List<Map.Entry<Exchange, CanonicalEvent>> read = KafkaBatches.read(batch, codec::read);
        Set<String> due;
        try {
            due = planAll(read.stream().map(Map.Entry::getValue).toList());
        } catch (RuntimeException failed) {
            if (KafkaBatches.isOutage(failed)) {
                throw failed;
            }
            LOG.warnf("ledger batch of %d failed (%s): planning its events one at a time", read.size(),
                    failed.toString());
            due = new LinkedHashSet<>();
            for (Map.Entry<Exchange, CanonicalEvent> one : read) {
                try {
                    due.addAll(planAll(List.of(one.getValue())));
                } catch (RuntimeException alone) {
                    if (KafkaBatches.isOutage(alone)) {
                        throw alone;
                    }
                    KafkaBatches.reject(batch, one.getKey(), alone);
                }
            }
        }
        due.forEach(lanes::wake);
    }

    /** Plans ledger events in order, in one transaction; returns the systems with a delivery due. */
    public Set<String> planAll(List<CanonicalEvent> events) {
        Set<String> due = new LinkedHashSet<>();
        deliveries.transactions().executeWithoutResult(tx -> {
            for (CanonicalEvent event : events) {
                due.addAll(switch (event.type()) {
                    case CONSENT_APPLIED -> planConsent(event);
                    case CUSTOMER_MERGE_APPLIED -> planMerge(event);
                    default -> Set.of();
                });
            }
        });
        return due;
    }

    /** Plans one {@code consent.applied}; returns the systems with a delivery due. */
    public Set<String> planConsent(CanonicalEvent event) {
        ObjectNode data = event.data();
        String hubId = data.path("hubId").asText();
        String channel = data.path("channel").asText();
        String purpose = data.path("purpose").asText();
        ConsentState state = ConsentState.fromWireName(data.path("state").asText())
                .orElseThrow(() -> new IllegalArgumentException("consent.applied " + event.id() + " has no state"));
        String reason = Json.text(data, "reason");
        String origin = data.path("originSystem").asText();
        String email = Json.text(data.path("customer"), "email");
        JsonNode ids = data.path("customer").path("ids");
        Instant received = received(event);
        String originSource = data.path("originEvent").path("source").asText();
        String originId = data.path("originEvent").path("id").asText();
        String originEvent = originSource + "#" + originId;
        Set<String> due = new LinkedHashSet<>();
        deliveries.transactions().executeWithoutResult(tx -> {
            // A change the ledger has moved past (a ledger event redelivered or replayed late) must not reach anyone:
            // a newer change of this customer is planned, or will be, with the current state.
            Held now = ledger.held(hubId, channel, purpose, false);
            boolean current = now == null || (originSource.equals(now.eventSource()) && originId.equals(now.eventId()));
            List<Deliveries.Planned> planned = new ArrayList<>();
            for (String system : lanes.systems()) {
                boolean fromHere = system.equals(origin);
                String status = !current ? Deliveries.SUPERSEDED : fromHere ? Deliveries.SKIPPED : Deliveries.PENDING;
                String why = !current ? "stale: the ledger has decided a newer change since"
                        : fromHere ? "origin-system: the change came from " + system : null;
                planned.add(new Deliveries.Planned(event.id(), system, Delivery.KIND_CONSENT, hubId, channel, purpose,
                        state, reason, email, Json.text(ids, system), origin, originEvent, event.time(), received,
                        status, why));
            }
            List<String> inserted = deliveries.insertAll(planned); // a redelivered event inserts nothing
            if (!current || inserted.isEmpty()) {
                return;
            }
            // Everything still waiting for these systems (the origin included) is older: only this state goes out.
            deliveries.supersedeOlder(event.id(), hubId, channel, purpose, inserted);
            // Read after superseding, so a claim that won the race for an older row is seen here.
            Set<String> sending = deliveries.systemsSending(hubId, channel, purpose);
            Map<String, ConsentState> held = deliveries.heldBySystem(hubId, channel, purpose);
            List<String> alreadyThere = new ArrayList<>();
            for (String system : inserted) {
                if (system.equals(origin) && sending.contains(system)) {
                    // An older change is on its way to the origin right now and would overwrite what the customer just
                    // chose there: send the origin its own new state again once that call is done.
                    deliveries.reopen(event.id(), system, "origin-system with an older change in flight: re-asserted");
                    due.add(system);
                } else if (system.equals(origin)) {
                    deliveries.holds(system, hubId, channel, purpose, state, clock.instant(), "origin");
                } else if (held.get(system) == state && !sending.contains(system)) {
                    alreadyThere.add(system);
                } else {
                    due.add(system);
                }
            }
            deliveries.skipAll(event.id(), alreadyThere, "already-in-state: last confirmed " + state.wireName());
        });
        LOG.debugf("consent change %s for %s planned for %s", event.id(), hubId, due);
        return due;
    }

    Set<String> planMerge(CanonicalEvent event) {
        ObjectNode data = event.data();
        String survivor = data.path("survivorHubId").asText();
        String merged = data.path("mergedHubId").asText();
        String origin = data.path("originSystem").asText();
        Instant received = received(event);
        String originEvent = data.path("originEvent").path("source").asText() + "#"
                + data.path("originEvent").path("id").asText();
        String mergedEmail = identity.emailOf(merged).orElse(null);
        String survivorEmail = identity.emailOf(survivor).orElse(null);
        List<Object[]> consent = jdbc.query("SELECT channel, purpose, state, reason, event_time FROM consent_state"
                + " WHERE hub_id = ? ORDER BY channel, purpose", (rs, i) -> new Object[] { rs.getString(1),
                        rs.getString(2), rs.getString(3), rs.getString(4), Sql.instant(rs, "event_time") }, survivor);
        Set<String> due = new LinkedHashSet<>();
        deliveries.transactions().executeWithoutResult(tx -> {
            for (Map.Entry<String, SubscriberAdapter> lane : lanes.adapters().entrySet()) {
                String system = lane.getKey();
                if (system.equals(origin)) {
                    continue;
                }
                List<String> targets = new ArrayList<>();
                data.path("mergedSystemIds").path(system).forEach(id -> targets.add(id.asText()));
                boolean byEmail = lane.getValue().keyedByEmail() && mergedEmail != null
                        && !mergedEmail.equals(survivorEmail);
                if (targets.isEmpty() && byEmail) {
                    targets.add(null);
                }
                for (String target : targets) {
                    for (Object[] row : consent) {
                        String channel = (String) row[0];
                        String purpose = (String) row[1];
                        String changeId = Pii.sha256Hex(event.id() + "|" + target + "|" + mergedEmail + "|" + channel
                                + "|" + purpose);
                        boolean inserted = deliveries.insert(new Deliveries.Planned(changeId, system,
                                Delivery.KIND_MERGE, survivor, channel, purpose,
                                ConsentState.valueOf(((String) row[2]).toUpperCase()), (String) row[3],
                                lane.getValue().keyedByEmail() ? mergedEmail : null, target, origin, originEvent,
                                (Instant) row[4], received, Deliveries.PENDING, null));
                        if (inserted) {
                            due.add(system);
                        }
                    }
                }
            }
        });
        LOG.infof("merge of %s into %s: notifying %s", merged, survivor, due);
        return due;
    }

    private static Instant received(CanonicalEvent event) {
        String text = Json.text(event.data(), "originReceivedAt");
        return text == null ? event.receivedAt() : Instant.parse(text);
    }
}
