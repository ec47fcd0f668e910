package io.handoff.hub.reconciliation;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.consent.ConsentLedger;
import io.handoff.hub.consent.ConsentRules.Held;
import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.CustomerRefs;
import io.handoff.hub.event.EventType;
import io.handoff.hub.intake.EventPublisher;
import io.handoff.hub.kafka.HubTopics;
import io.handoff.hub.propagation.Deliveries;
import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.PropagationLanes;
import io.handoff.hub.reconciliation.ReconciliationStore.PlannedRepair;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Carries out a run's repair plan, contact by contact, each step idempotent so an apply that stopped half-way (Kafka
 * or the database went away) can simply be applied again:
 * <ul>
 * <li>{@code send-ledger-state}: a delivery of the ledger's current state to that system through its propagation
 * lane (origin {@code reconciliation}, change id from run and contact), with the lane's retries, receipts and
 * dead-letter parking. A contact with a delivery already on its way is skipped.</li>
 * <li>{@code learn}: a {@code consent.changed} event from that system (its reason and suppression time; id from run and
 * contact) on the consent topic: the ledger applies it under its usual rules, and propagation takes the learned
 * opt-out or bounce to every other system.</li>
 * </ul>
 */
@ApplicationScoped
public class DriftRepair {

    private static final Logger LOG = Logger.getLogger(DriftRepair.class);
    public static final String ORIGIN = "reconciliation";

    private final ReconciliationStore store;
    private final Deliveries deliveries;
    private final PropagationLanes lanes;
    private final ConsentLedger ledger;
    private final EventPublisher publisher;
    private final HubTopics topics;
    private final String purpose;
    private final boolean autoRepair;
    private final Clock clock = Clock.systemUTC();
    private final ProducerTemplate producer;

    public DriftRepair(ReconciliationStore store, Deliveries deliveries, PropagationLanes lanes, ConsentLedger ledger,
            EventPublisher publisher, HubTopics topics, CamelContext camel,
            @ConfigProperty(name = "hub.reconciliation.purpose", defaultValue = "marketing") String purpose,
            // After a scheduled run, send the ledger's state to the systems that would mail opted-out customers
            // (dangerous drift only; learning from the systems stays a decision for an operator's apply).
            @ConfigProperty(name = "hub.reconciliation.auto-repair", defaultValue = "false") boolean autoRepair) {
        this.store = store;
        this.deliveries = deliveries;
        this.lanes = lanes;
        this.ledger = ledger;
        this.publisher = publisher;
        this.topics = topics;
        this.producer = camel.createProducerTemplate();
        this.purpose = purpose;
        this.autoRepair = autoRepair;
    }

    public boolean autoRepair() {
        return autoRepair;
    }

    /** What an apply did. */
    public record Applied(long sent, long learned, long skipped) {
    }

    /**
     * Applies the planned repairs of run {@code runId} that are still planned. Each contact is claimed first, so two
     * applies of one run (an operator's and the run's own) never carry out the same repair twice.
     *
     * @param dangerousOnly only the would-mail repairs (auto-repair after a scheduled run)
     */
    public Applied apply(String runId, boolean dangerousOnly) {
        long sent = 0;
        long learned = 0;
        long skipped = 0;
        List<String> systems = store.jdbc().query("SELECT system FROM reconciliation_system WHERE run_id = ?"
                + " AND ledger_opted_out IS NOT NULL ORDER BY system", (rs, i) -> rs.getString(1), runId);
        for (String system : systems) {
            boolean planned = false;
            try {
                String after = "";
                List<PlannedRepair> page;
                do {
                    page = store.plannedRepairs(runId, system, after, 500);
                    for (PlannedRepair r : page) {
                        after = r.email();
                        if (dangerousOnly && !ReconciliationStore.WOULD_MAIL.equals(r.category())
                                || !store.claimRepair(runId, system, r.email())) {
                            continue;
                        }
                        if (ReconciliationStore.SEND_LEDGER_STATE.equals(r.action())) {
                            if (sendLedgerState(runId, r)) {
                                sent++;
                                planned = true;
                            } else {
                                skipped++;
                            }
                        } else if (ledgerChanged(r)) {
                            store.actionDone(runId, system, r.email(), ReconciliationStore.SKIPPED, null,
                                    "the ledger decided for this customer since the run: not learned");
                            skipped++;
                        } else {
                            learn(runId, r);
                            learned++;
                        }
                    }
                } while (page.size() == 500);
            } finally {
                store.repaired(runId, system);
                if (planned) {
                    lanes.wake(system);
                }
            }
        }
        if (!dangerousOnly) {
            store.markApplied(runId);
        }
        LOG.infof("reconciliation %s applied%s: %d deliveries planned, %d suppressions learned, %d skipped", runId,
                dangerousOnly ? " (dangerous drift only)" : "", sent, learned, skipped);
        return new Applied(sent, learned, skipped);
    }

    /** True if the ledger's decision for the contact is not the one the run compared with. */
    private boolean ledgerChanged(PlannedRepair r) {
        Held held = r.hubId() == null ? null : ledger.held(r.hubId(), "email", purpose, false);
        if (r.ledgerState() == null) {
            return held != null;
        }
        return held == null || !held.state().wireName().equals(r.ledgerState())
                || !held.eventTime().equals(r.ledgerTime());
    }

    private boolean sendLedgerState(String runId, PlannedRepair r) {
        String why = null;
        Held held = r.hubId() == null ? null : ledger.held(r.hubId(), "email", purpose, false);
        if (!lanes.systems().contains(r.system())) {
            why = "system switched off since the run";
        } else if (held == null) {
            why = "the ledger no longer holds a decision";
        } else if (deliveries.systemsSending(r.hubId(), "email", purpose).contains(r.system())) {
            why = "in-flight: a delivery to this system is being sent";
        }
        if (why != null) {
            store.actionDone(runId, r.system(), r.email(), ReconciliationStore.SKIPPED, null, why);
            return false;
        }
        String changeId = changeId(runId, r);
        Instant now = clock.instant();
        deliveries.transactions().executeWithoutResult(tx -> {
            deliveries.insert(new Deliveries.Planned(changeId, r.system(), Delivery.KIND_CONSENT, r.hubId(), "email",
                    purpose, held.state(), held.reason(), r.email(), r.systemId(), ORIGIN, ORIGIN + "#" + runId,
                    held.eventTime(), now, Deliveries.PENDING, "repair of reconciliation " + runId));
            // An older waiting or parked change for this contact is replaced by the ledger's current state.
            deliveries.supersedeOlder(changeId, r.hubId(), "email", purpose, List.of(r.system()));
            store.actionDone(runId, r.system(), r.email(), ReconciliationStore.SENT, changeId, null);
        });
        return true;
    }

    private void learn(String runId, PlannedRepair r) {
        ConsentState state = ConsentState.fromWireName(r.systemState()).orElse(ConsentState.UNSUBSCRIBED);
        ObjectNode customer = CustomerRefs.of(r.email(), null, r.system(), r.systemId());
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.set("customer", customer);
        data.put("channel", "email");
        data.put("purpose", purpose);
        data.put("state", state.wireName());
        if (state == ConsentState.SUPPRESSED && r.systemReason() != null) {
            data.put("reason", r.systemReason());
        }
        data.put("collectedFrom", ORIGIN);
        data.put("reconciliationRun", runId);
        // An undated suppression is known to be true when the system was read, not later: the time of the pull.
        Instant time = r.systemTime() != null ? r.systemTime() : r.pulledAt();
        String id = changeId(runId, r);
        CanonicalEvent event = new CanonicalEvent(id, "/systems/" + r.system(), EventType.CONSENT_CHANGED,
                CustomerRefs.key(customer), time, clock.instant(),
                r.systemTime() == null ? TimeSource.RECEIVED : TimeSource.PAYLOAD, Map.of(), data,
                CustomerRefs.key(customer));
        Exchange result = producer.send("kafka:" + topics.forDomain(EventType.Domain.CONSENT), exchange -> {
            exchange.getMessage().setBody(event);
            publisher.toRecord(exchange);
        });
        if (result.getException() != null) {
            store.unclaimRepair(runId, r.system(), r.email());
            throw new IllegalStateException("Kafka did not take the learned suppression ("
                    + result.getException().getClass().getSimpleName() + "): apply the run again once it is back",
                    result.getException());
        }
        store.actionDone(runId, r.system(), r.email(), ReconciliationStore.SENT, id, null);
    }

    /** Stable per run and contact: applying a plan twice plans and publishes nothing twice. */
    static String changeId(String runId, PlannedRepair r) {
        return "reconciliation-" + runId + "-" + Pii.sha256Hex(r.email()).substring(0, 24);
    }

}
