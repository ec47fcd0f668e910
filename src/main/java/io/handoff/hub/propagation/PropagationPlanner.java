package io.handoff.hub.propagation;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
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
import io.handoff.hub.consent.ConsentLedger.Key;
import io.handoff.hub.consent.ConsentRules.Held;
import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.event.EventType;
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

    /**
     * Plans ledger events in order, in one transaction; returns the systems with a delivery due. Consecutive
     * {@code consent.applied} events are planned together ({@link #planConsents}), a merge on its own between them.
     */
    public Set<String> planAll(List<CanonicalEvent> events) {
        Set<String> due = new LinkedHashSet<>();
        deliveries.transactions().executeWithoutResult(tx -> {
            List<CanonicalEvent> changes = new ArrayList<>();
            for (CanonicalEvent event : events) {
                if (event.type() == EventType.CONSENT_APPLIED) {
                    changes.add(event);
                    continue;
                }
                due.addAll(planConsents(changes));
                changes.clear();
                if (event.type() == EventType.CUSTOMER_MERGE_APPLIED) {
                    due.addAll(planMerge(event));
                }
            }
            due.addAll(planConsents(changes));
        });
        return due;
    }

    /** Plans one {@code consent.applied}; returns the systems with a delivery due. */
    public Set<String> planConsent(CanonicalEvent event) {
        return deliveries.transactions().execute(tx -> planConsents(List.of(event)));
    }

    /** One {@code consent.applied}, read. */
    private record Change(CanonicalEvent event, Key key, ConsentState state, String reason, String origin,
            String email, JsonNode ids, Instant received, String originSource, String originId) {

        static Change of(CanonicalEvent event) {
            ObjectNode data = event.data();
            ConsentState state = ConsentState.fromWireName(data.path("state").asText())
                    .orElseThrow(() -> new IllegalArgumentException("consent.applied " + event.id() + " has no state"));
            return new Change(event, new Key(data.path("hubId").asText(), data.path("channel").asText(),
                    data.path("purpose").asText()), state, Json.text(data, "reason"),
                    data.path("originSystem").asText(), Json.text(data.path("customer"), "email"),
                    data.path("customer").path("ids"), PropagationPlanner.received(event),
                    data.path("originEvent").path("source").asText(), data.path("originEvent").path("id").asText());
        }

        /** Whether the ledger still holds this change: it has not decided a newer one of the customer since. */
        boolean current(Held now) {
            return now == null || (originSource.equals(now.eventSource()) && originId.equals(now.eventId()));
        }
    }

    /**
     * Plans {@code consent.applied} events in order, inside the caller's transaction, with set-based reads and JDBC
     * batches; the rows and receipts are those of planning the events one at a time:
     * <ul>
     * <li>a change the ledger has moved past (a ledger event redelivered or replayed late) reaches no one: its rows
     * are superseded at once (a newer change of this customer is planned, or will be, with the current state);</li>
     * <li>every switched-on system gets a row; the origin's is skipped (it holds the new state), a redelivered event
     * inserts nothing;</li>
     * <li>what still waits for these systems of the same customer, channel and purpose is older and superseded;</li>
     * <li>a system last confirmed in the new state, with nothing of the customer on its way, gets a skipped receipt
     * instead of a call; an origin with an older change in flight gets its own new state again after it.</li>
     * </ul>
     * Events are taken in runs without a repeated customer/channel/purpose, so that the reads of a run see what the
     * runs before it wrote. Only the last change of a key in a poll is normally still current (the ledger decided the
     * later ones after it), so a run is usually the whole poll; a key repeats when the ledger republished a change.
     */
    Set<String> planConsents(List<CanonicalEvent> events) {
        Set<String> due = new LinkedHashSet<>();
        List<Change> run = new ArrayList<>();
        Set<Key> keys = new HashSet<>();
        for (CanonicalEvent event : events) {
            Change change = Change.of(event);
            if (!keys.add(change.key())) {
                due.addAll(planRun(run));
                run.clear();
                keys.clear();
                keys.add(change.key());
            }
            run.add(change);
        }
        due.addAll(planRun(run));
        return due;
    }

    /** Plans changes of distinct customers/channels/purposes; see {@link #planConsents}. */
    private Set<String> planRun(List<Change> run) {
        Set<String> due = new LinkedHashSet<>();
        if (run.isEmpty()) {
            return due;
        }
        List<String> hubIds = run.stream().map(c -> c.key().hubId()).distinct().toList();
        Map<Key, Held> ledgerHolds = ledger.heldAll(hubIds);
        Set<Deliveries.ChangeSystem> before = deliveries.planned(run.stream().map(c -> c.event().id()).toList());
        List<Deliveries.Planned> rows = new ArrayList<>();
        Map<Change, List<String>> inserted = new LinkedHashMap<>();
        for (Change c : run) {
            boolean current = c.current(ledgerHolds.get(c.key()));
            List<String> mine = new ArrayList<>();
            for (String system : lanes.systems()) {
                if (before.contains(new Deliveries.ChangeSystem(c.event().id(), system))) {
                    continue; // a redelivered event inserts nothing
                }
                boolean fromHere = system.equals(c.origin());
                String status = !current ? Deliveries.SUPERSEDED : fromHere ? Deliveries.SKIPPED : Deliveries.PENDING;
                String why = !current ? "stale: the ledger has decided a newer change since"
                        : fromHere ? "origin-system: the change came from " + system : null;
                rows.add(new Deliveries.Planned(c.event().id(), system, Delivery.KIND_CONSENT, c.key().hubId(),
                        c.key().channel(), c.key().purpose(), c.state(), c.reason(), c.email(),
                        Json.text(c.ids(), system), c.origin(), c.originSource() + "#" + c.originId(),
                        c.event().time(), c.received(), status, why));
                mine.add(system);
            }
            if (current && !mine.isEmpty()) {
                inserted.put(c, mine);
            }
        }
        // System by system (a stable sort: each system's rows keep the changes' order, which their ids must follow), so
        // that the rows a lane claims and records together lie next to each other in the table's pages.
        rows.sort(Comparator.comparing(Deliveries.Planned::system));
        deliveries.insertNew(rows);
        if (inserted.isEmpty()) {
            return due;
        }
        // Everything still waiting for these systems (the origin included) is older: only this state goes out.
        deliveries.supersedeOlder(inserted.entrySet().stream().map(e -> new Deliveries.Superseding(
                Delivery.KIND_CONSENT, e.getKey().event().id(), e.getKey().key().hubId(), e.getKey().key().channel(),
                e.getKey().key().purpose(), e.getValue())).toList());
        // Read after superseding, so a claim that won the race for an older row is seen here.
        List<String> active = inserted.keySet().stream().map(c -> c.key().hubId()).distinct().toList();
        Map<Key, Set<String>> sendingNow = deliveries.systemsSending(active);
        Map<Key, Map<String, ConsentState>> heldNow = deliveries.heldBySystem(active);
        List<Deliveries.Holding> holdings = new ArrayList<>();
        List<Deliveries.ChangeSystem> alreadyThere = new ArrayList<>();
        List<String> why = new ArrayList<>();
        Instant now = clock.instant();
        for (Map.Entry<Change, List<String>> e : inserted.entrySet()) {
            Change c = e.getKey();
            Set<String> sending = sendingNow.getOrDefault(c.key(), Set.of());
            Map<String, ConsentState> held = heldNow.getOrDefault(c.key(), Map.of());
            Set<String> mineDue = new LinkedHashSet<>();
            for (String system : e.getValue()) {
                if (system.equals(c.origin()) && sending.contains(system)) {
                    // An older change is on its way to the origin right now and would overwrite what the customer just
                    // chose there: send the origin its own new state again once that call is done.
                    deliveries.reopen(c.event().id(), system, "origin-system with an older change in flight: re-asserted");
                    mineDue.add(system);
                } else if (system.equals(c.origin())) {
                    holdings.add(new Deliveries.Holding(system, c.key(), c.state(), now, "origin"));
                } else if (held.get(system) == c.state() && !sending.contains(system)) {
                    alreadyThere.add(new Deliveries.ChangeSystem(c.event().id(), system));
                    why.add("already-in-state: last confirmed " + c.state().wireName());
                } else {
                    mineDue.add(system);
                }
            }
            LOG.debugf("consent change %s for %s planned for %s", c.event().id(), c.key().hubId(), mineDue);
            due.addAll(mineDue);
        }
        deliveries.holds(holdings);
        deliveries.skip(alreadyThere, why);
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
