package io.handoff.hub.consent;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.consent.ConsentRules.Held;
import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.event.EventType;
import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.identity.IdentityResolver.CustomerRef;
import io.handoff.hub.persistence.Sql;
import io.handoff.hub.support.Json;

/**
 * Customer events on the identity side: {@code customer.created} / {@code customer.updated} link the ids and email
 * they carry; {@code customer.merged} (an ERP or CRM merged duplicates) re-points every id of the merged customers to
 * the survivor, combines their consent (per channel and purpose the most restrictive state wins, dated at the later of
 * the two event times, so no older event can undo it), and records the merge with the ids the merged customers held,
 * for propagation to tell those systems.
 */
@ApplicationScoped
@Named("customerMerges")
public class CustomerMerges {

    private static final Logger LOG = Logger.getLogger(CustomerMerges.class);

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final IdentityResolver identity;
    private final ConsentLedger ledger;
    private final CanonicalEventCodec codec;
    private final Clock clock = Clock.systemUTC();

    public CustomerMerges(@Named("hubDataSource") DataSource dataSource, IdentityResolver identity,
            ConsentLedger ledger, CanonicalEventCodec codec) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        this.identity = identity;
        this.ledger = ledger;
        this.codec = codec;
    }

    /** Camel entry point for records of the customer topic; returns the events to publish. */
    public List<CanonicalEvent> applyRecord(Exchange exchange) {
        CanonicalEvent event = codec.read(exchange);
        return switch (event.type()) {
            case CUSTOMER_CREATED, CUSTOMER_UPDATED -> {
                CustomerRef ref = CustomerRef.of(event.data().path("customer"));
                if (ref.identifiesSomeone()) {
                    identity.resolve(ref);
                }
                yield List.of();
            }
            case CUSTOMER_MERGED -> merge(event);
            default -> List.of();
        };
    }

    public List<CanonicalEvent> merge(CanonicalEvent event) {
        String survivor = identity.resolve(CustomerRef.of(event.data().path("survivor"))).hubId();
        List<CanonicalEvent> out = new ArrayList<>();
        for (JsonNode mergedRef : event.data().path("merged")) {
            CustomerRef ref = CustomerRef.of(mergedRef);
            String merged = knownHubId(ref);
            if (merged == null) {
                // The hub never saw this customer: its ids simply belong to the survivor from now on.
                identity.resolve(new CustomerRef(null, ref.ids()));
                continue;
            }
            if (merged.equals(survivor)) {
                continue;
            }
            out.addAll(transactions.execute(tx -> mergeInto(event, merged, survivor)));
        }
        return out;
    }

    private String knownHubId(CustomerRef ref) {
        for (var id : ref.ids().entrySet()) {
            List<String> owner = jdbc.query("SELECT hub_id FROM customer_system_id WHERE system = ? AND system_id = ?",
                    (rs, i) -> rs.getString(1), id.getKey(), id.getValue());
            if (!owner.isEmpty()) {
                return identity.survivorOf(owner.get(0));
            }
        }
        return ref.email() == null ? null : identity.byEmail(ref.email()).orElse(null);
    }

    private List<CanonicalEvent> mergeInto(CanonicalEvent event, String merged, String survivor) {
        Instant now = clock.instant();
        Map<String, List<String>> held = identity.repoint(merged, survivor);
        List<CanonicalEvent> out = new ArrayList<>();
        List<String[]> keys = jdbc.query("SELECT channel, purpose FROM consent_state WHERE hub_id = ?",
                (rs, i) -> new String[] { rs.getString(1), rs.getString(2) }, merged);
        for (String[] key : keys) {
            String channel = key[0];
            String purpose = key[1];
            Held fromMerged = ledger.held(merged, channel, purpose, true);
            Held fromSurvivor = ledger.held(survivor, channel, purpose, true);
            ConsentState combined = fromSurvivor == null ? fromMerged.state()
                    : ConsentState.mostRestrictive(fromSurvivor.state(), fromMerged.state());
            Held winner = fromSurvivor != null && fromSurvivor.state() == combined ? fromSurvivor : fromMerged;
            Instant latest = fromSurvivor == null || fromMerged.eventTime().isAfter(fromSurvivor.eventTime())
                    ? fromMerged.eventTime()
                    : fromSurvivor.eventTime();
            boolean changed = fromSurvivor == null || fromSurvivor.state() != combined;
            ledger.writeState(survivor, channel, purpose, combined, winner.reason(), "merge", event.source(),
                    event.id(), latest, fromSurvivor == null, now);
            ledger.recordHistory(new ConsentLedger.HistoryEntry(survivor, channel, purpose, combined.wireName(),
                    winner.reason(), ConsentLedger.system(event.source()), event.source(), event.id(), latest,
                    event.receivedAt(), true, "merge-most-restrictive", changed,
                    fromSurvivor == null ? null : fromSurvivor.state().wireName()), now);
            if (changed) {
                out.add(ledger.consentApplied(event, survivor, channel, purpose, combined, winner.reason(),
                        fromSurvivor, "merge-most-restrictive"));
            }
        }
        String heldJson;
        try {
            heldJson = Json.MAPPER.writeValueAsString(held);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        jdbc.update("INSERT INTO customer_merge (survivor_hub_id, merged_hub_id, merged_system_ids, event_source,"
                + " event_id, event_time, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)", survivor, merged, heldJson,
                event.source(), event.id(), Sql.timestamp(event.time()), Sql.timestamp(now));
        LOG.infof("merged customer %s into %s (%d system ids re-pointed)", merged, survivor,
                held.values().stream().mapToInt(List::size).sum());
        out.add(mergeApplied(event, survivor, merged, held));
        return out;
    }

    private CanonicalEvent mergeApplied(CanonicalEvent origin, String survivor, String merged,
            Map<String, List<String>> heldIds) {
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.put("survivorHubId", survivor);
        data.put("mergedHubId", merged);
        ObjectNode ids = data.putObject("mergedSystemIds");
        heldIds.forEach((system, list) -> list.forEach(ids.putArray(system)::add));
        ObjectNode survivorIds = data.putObject("survivorSystemIds");
        Map<String, List<String>> now = new LinkedHashMap<>(identity.systemIds(survivor));
        now.forEach((system, list) -> list.forEach(survivorIds.putArray(system)::add));
        data.put("originSystem", ConsentLedger.system(origin.source()));
        data.putObject("originEvent").put("source", origin.source()).put("id", origin.id());
        data.put("originReceivedAt", origin.receivedAt().toString());
        String id = io.handoff.hub.support.Pii.sha256Hex(origin.source() + "|" + origin.id() + "|" + merged);
        return new CanonicalEvent(id, ConsentLedger.LEDGER_SOURCE, EventType.CUSTOMER_MERGE_APPLIED, "hub:" + survivor,
                origin.time(), clock.instant(), origin.timeSource(), Map.of(), data, survivor);
    }
}
