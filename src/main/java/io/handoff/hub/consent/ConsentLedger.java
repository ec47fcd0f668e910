package io.handoff.hub.consent;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.springframework.dao.ConcurrencyFailureException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.consent.ConsentRules.Decision;
import io.handoff.hub.consent.ConsentRules.Held;
import io.handoff.hub.consent.ConsentRules.Incoming;
import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.event.EventType;
import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.identity.IdentityResolver.CustomerRef;
import io.handoff.hub.identity.IdentityResolver.Snapshot;
import io.handoff.hub.intake.EventPublisher;
import io.handoff.hub.kafka.KafkaBatches;
import io.handoff.hub.persistence.Sql;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * The consent ledger: applies {@code consent.changed} events to the one authoritative state per customer x channel x
 * purpose, by {@link ConsentRules}, and keeps every event in the append-only history with the rule that decided it.
 * <p>
 * The ledger consumes its topic in batches: a poll's events are decided in one database transaction that locks each
 * held state row once ({@code SELECT ... FOR UPDATE}) and writes with JDBC batches ({@link #applyAll}); a first
 * event racing another replica's first event hits the primary key and the batch is decided again. For every change it
 * returns a {@code consent.applied} event whose id is derived from the decided event, so a redelivery after a failed
 * publish publishes the same event again (consumers deduplicate on id) instead of losing it.
 */
@ApplicationScoped
@Named("consentLedger")
public class ConsentLedger {

    private static final Logger LOG = Logger.getLogger(ConsentLedger.class);
    private static final int MAX_ATTEMPTS = 5;
    public static final String LEDGER_SOURCE = "/hub/consent-ledger";

    private final JdbcTemplate jdbc;
    /** H2 reads a keyed IN list by the index only when it is written as row values ({@link Sql#keyedInChunks}). */
    private final java.util.function.BooleanSupplier h2;
    private final TransactionTemplate transactions;
    private final IdentityResolver identity;
    private final CanonicalEventCodec codec;
    private final EventPublisher publisher;
    private final Duration skew;
    private final Set<String> purposes;
    private final Clock clock = Clock.systemUTC();

    public ConsentLedger(@Named("hubDataSource") DataSource dataSource, IdentityResolver identity,
            CanonicalEventCodec codec, EventPublisher publisher,
            // Events closer in time than this are treated as simultaneous: the most restrictive state wins.
            @ConfigProperty(name = "hub.consent.clock-skew-ms", defaultValue = "5000") long skewMs,
            // Purposes the ledger keeps consent for; events for other purposes are recorded and ignored.
            @ConfigProperty(name = "hub.consent.purposes", defaultValue = "marketing") Set<String> purposes) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.h2 = Sql.isH2(jdbc);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        this.identity = identity;
        this.codec = codec;
        this.publisher = publisher;
        this.skew = Duration.ofMillis(skewMs);
        this.purposes = Set.copyOf(purposes);
    }

    /** What one consent event did to the ledger. */
    public record Outcome(String hubId, String channel, String purpose, Decision decision, CanonicalEvent applied) {
    }

    /**
     * Camel entry point of the batching consumer: decides the poll's consent events in one transaction and answers
     * the {@code consent.applied} records to publish (records that cannot be read, or fail on their own, are set
     * aside for the dead-letter topic, see {@link KafkaBatches}).
     */
    public List<Message> applyBatch(Exchange batch) {
        List<Map.Entry<Exchange, CanonicalEvent>> read = KafkaBatches.read(batch, codec::read).stream()
                .filter(e -> e.getValue().type() == EventType.CONSENT_CHANGED).toList();
        List<Outcome> outcomes;
        try {
            outcomes = applyAll(read.stream().map(Map.Entry::getValue).toList());
        } catch (RuntimeException failed) {
            if (KafkaBatches.isOutage(failed)) {
                throw failed;
            }
            // One event the ledger cannot take: decide them one at a time, so only that one is set aside.
            LOG.warnf("consent batch of %d failed (%s): deciding its events one at a time", read.size(),
                    failed.toString());
            outcomes = new ArrayList<>();
            for (Map.Entry<Exchange, CanonicalEvent> one : read) {
                try {
                    outcomes.addAll(applyAll(List.of(one.getValue())));
                } catch (RuntimeException alone) {
                    if (KafkaBatches.isOutage(alone)) {
                        throw alone;
                    }
                    KafkaBatches.reject(batch, one.getKey(), alone);
                }
            }
        }
        return publisher.toMessages(outcomes.stream().map(Outcome::applied).filter(e -> e != null).toList(),
                batch.getContext());
    }

    /** Applies one event in its own transaction; see {@link #applyAll}. */
    public List<Outcome> apply(CanonicalEvent event) {
        return applyAll(List.of(event));
    }

    /**
     * Applies consent events in order, in one transaction: each customer is resolved, the held state of every
     * customer x channel x purpose the events touch is locked once ({@code SELECT ... FOR UPDATE}) and then kept in
     * memory, so each event is decided against what the events before it left; the history and the final states are
     * written with JDBC batches. The decisions are those of deciding the events one at a time. A race with another
     * replica (a first event hitting the primary key, a customer created at the same instant) decides the whole list
     * again.
     */
    public List<Outcome> applyAll(List<CanonicalEvent> events) {
        if (events.isEmpty()) {
            return List.of();
        }
        long started = System.nanoTime();
        for (int attempt = 1;; attempt++) {
            try {
                List<Outcome> outcomes = transactions.execute(tx -> new Batch().decide(events));
                if (events.size() > 1) {
                    long applied = outcomes.stream().filter(o -> o.decision().applied()).count();
                    LOG.debugf("consent batch of %d decided in %d ms: %d applied, %d ignored", events.size(),
                            (System.nanoTime() - started) / 1_000_000, applied, outcomes.size() - applied);
                }
                return outcomes;
            } catch (DataIntegrityViolationException | ConcurrencyFailureException raced) {
                if (attempt >= MAX_ATTEMPTS) {
                    throw raced;
                }
                LOG.debugf("consent batch of %d raced another replica, deciding again (attempt %d)", events.size(),
                        attempt);
                // On H2 the other replica's customer is visible only once it commits: give it a moment.
                java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(
                        50L * attempt));
            }
        }
    }

    /** A customer, channel and purpose: the unit the ledger holds one state for. */
    public record Key(String hubId, String channel, String purpose) {
    }

    /** An event the ledger decided before (or earlier in the batch), as {@code source|id} under its key. */
    private record Seen(String source, String id, Key key) {
    }

    /** The writes of one batch, made at its end: history rows in order, each key's final state once. */
    private final class Batch {
        private final Map<Key, Held> held = new HashMap<>();
        private final Set<Key> stored = new HashSet<>();
        private final Map<Key, Integer> appliedCount = new LinkedHashMap<>();
        private final Map<Seen, Boolean> earlier = new HashMap<>();
        private final List<Object[]> history = new ArrayList<>();
        private final Instant now = clock.instant();

        List<Outcome> decide(List<CanonicalEvent> events) {
            List<CanonicalEvent> named = new ArrayList<>();
            for (CanonicalEvent event : events) {
                if (CustomerRef.of(event.data().path("customer")).identifiesSomeone()) {
                    named.add(event);
                } else {
                    LOG.warnf("consent event %s from %s names no email or system id: not applied", event.id(),
                            event.source());
                }
            }
            List<Snapshot> who = resolve(named);
            loadEarlier(named);
            loadHeld(who);
            List<Outcome> outcomes = new ArrayList<>(named.size());
            for (int i = 0; i < named.size(); i++) {
                outcomes.add(decide(named.get(i), who.get(i)));
            }
            flush();
            return outcomes;
        }

        /**
         * The customers of the events: one event alone through {@link IdentityResolver#resolve} statement by
         * statement, a batch set-based through {@link IdentityResolver#resolveAll} (the batch tests hold the two to
         * the same answers).
         */
        private List<Snapshot> resolve(List<CanonicalEvent> named) {
            List<CustomerRef> refs = named.stream().map(e -> CustomerRef.of(e.data().path("customer"))).toList();
            if (refs.size() == 1) {
                String hubId = identity.resolve(refs.get(0)).hubId();
                Map<String, String> firstIds = new LinkedHashMap<>();
                identity.systemIds(hubId).forEach((system, ids) -> firstIds.put(system, ids.get(0)));
                return List.of(new Snapshot(hubId, identity.emailOf(hubId).orElse(null), firstIds));
            }
            return identity.resolveAll(refs);
        }

        private Outcome decide(CanonicalEvent event, Snapshot who) {
            ObjectNode data = event.data();
            String hubId = who.hubId();
            String channel = data.path("channel").asText();
            String purpose = data.hasNonNull("purpose") ? data.get("purpose").asText() : "marketing";
            Optional<ConsentState> parsed = ConsentState.fromWireName(data.path("state").asText());
            String reason = parsed.filter(s -> s == ConsentState.SUPPRESSED).map(s -> Json.text(data, "reason"))
                    .orElse(null);
            Incoming in = new Incoming(parsed.orElse(null), reason, event.source(), event.id(), event.time());
            Key key = new Key(hubId, channel, purpose);
            Held before = held(key);
            Seen seen = new Seen(event.source(), event.id(), key);
            Boolean earlierChanged = earlier.get(seen);
            Decision decision;
            if (earlierChanged != null) {
                decision = new Decision(false, false, "duplicate");
            } else if (!purposes.contains(purpose)) {
                decision = new Decision(false, false, "unconfigured-purpose");
            } else {
                decision = ConsentRules.decide(before, in, skew);
            }
            String stateName = in.state() == null ? data.path("state").asText() : in.state().wireName();
            String system = system(event.source());
            history.add(new Object[] { hubId, channel, purpose, truncate(stateName, 16), in.reason(), system,
                event.source(), event.id(), Sql.timestamp(event.time()), Sql.timestamp(event.receivedAt()),
                decision.applied() ? "applied" : "ignored", decision.rule(), decision.changed(),
                before == null ? null : before.state().wireName(), Sql.timestamp(now) });
            earlier.putIfAbsent(seen, decision.changed());
            if (decision.applied()) {
                held.put(key, new Held(in.state(), in.reason(), event.source(), event.id(), event.time()));
                appliedCount.merge(key, 1, Integer::sum);
            }
            CanonicalEvent applied = null;
            if (decision.changed() || (Boolean.TRUE.equals(earlierChanged) && before != null)) {
                // A duplicate of an event that changed the state publishes the same consent.applied again: the first
                // publish may be what failed.
                ConsentState state = decision.changed() ? in.state() : before.state();
                String why = decision.changed() ? in.reason() : before.reason();
                applied = consentApplied(event, who, channel, purpose, state, why,
                        decision.changed() && before != null ? before : null,
                        decision.changed() ? decision.rule() : "republished");
            }
            LOG.debugf("consent %s for %s %s/%s: %s (%s)", event.id(), hubId, channel, purpose,
                    decision.applied() ? "applied" : "ignored", decision.rule());
            return new Outcome(hubId, channel, purpose, decision, applied);
        }

        /** The held state of a key, as the batch left it (null: nothing held). */
        private Held held(Key key) {
            return held.get(key);
        }

        /** Reads and locks ({@code SELECT ... FOR UPDATE}) the held states of the batch's customers. */
        private void loadHeld(List<Snapshot> who) {
            Sql.inChunks(null, who.stream().map(Snapshot::hubId).distinct().sorted().toList(), (marks, args) -> jdbc
                    .query("SELECT hub_id, channel, purpose, state, reason, event_source, event_id, event_time"
                            + " FROM consent_state WHERE hub_id IN (" + marks + ") FOR UPDATE", rs -> {
                                Key key = new Key(rs.getString("hub_id"), rs.getString("channel"),
                                        rs.getString("purpose"));
                                held.put(key, heldRow(rs, 0));
                                stored.add(key);
                            }, args));
        }

        /**
         * Every earlier decision of the batch's events (the first row of each wins), by the index (event_source,
         * event_id): one query per source.
         */
        private void loadEarlier(List<CanonicalEvent> events) {
            Map<String, List<String>> bySource = new LinkedHashMap<>();
            events.forEach(e -> bySource.computeIfAbsent(e.source(), k -> new ArrayList<>()).add(e.id()));
            bySource.forEach((source, ids) -> Sql.keyedInChunks(h2.getAsBoolean(), "event_source", "event_id",
                    source, ids.stream().distinct().toList(), (condition, args) -> jdbc.query("SELECT event_source,"
                            + " event_id, hub_id, channel, purpose, changed FROM consent_history WHERE " + condition
                            + " ORDER BY id",
                            rs -> {
                                earlier.putIfAbsent(new Seen(rs.getString(1), rs.getString(2), new Key(rs.getString(3),
                                        rs.getString(4), rs.getString(5))), rs.getBoolean(6));
                            }, args)));
        }

        private void flush() {
            jdbc.batchUpdate("INSERT INTO consent_history (hub_id, channel, purpose, state, reason, source_system,"
                    + " event_source, event_id, event_time, received_at, decision, rule, changed, previous_state,"
                    + " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", history);
            List<Object[]> inserts = new ArrayList<>();
            List<Object[]> updates = new ArrayList<>();
            for (Map.Entry<Key, Integer> e : appliedCount.entrySet()) {
                Key k = e.getKey();
                Held h = held.get(k);
                Object[] values = { h.state().wireName(), h.reason(), system(h.eventSource()), h.eventSource(),
                    h.eventId(), Sql.timestamp(h.eventTime()), Sql.timestamp(now), e.getValue(), k.hubId(),
                    k.channel(), k.purpose() };
                (stored.contains(k) ? updates : inserts).add(values);
            }
            jdbc.batchUpdate("INSERT INTO consent_state (state, reason, source_system, event_source, event_id,"
                    + " event_time, updated_at, version, hub_id, channel, purpose) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    + " ?)", inserts);
            jdbc.batchUpdate("UPDATE consent_state SET state = ?, reason = ?, source_system = ?, event_source = ?,"
                    + " event_id = ?, event_time = ?, updated_at = ?, version = version + ?"
                    + " WHERE hub_id = ? AND channel = ? AND purpose = ?", updates);
        }
    }

    /** One row of the append-only history: an event the ledger saw and what it decided. */
    record HistoryEntry(String hubId, String channel, String purpose, String state, String reason,
            String sourceSystem, String eventSource, String eventId, Instant eventTime, Instant receivedAt,
            boolean applied, String rule, boolean changed, String previousState) {
    }

    void recordHistory(HistoryEntry e, Instant now) {
        jdbc.update("INSERT INTO consent_history (hub_id, channel, purpose, state, reason, source_system,"
                + " event_source, event_id, event_time, received_at, decision, rule, changed, previous_state,"
                + " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                e.hubId(), e.channel(), e.purpose(), e.state(), e.reason(), e.sourceSystem(), e.eventSource(),
                e.eventId(), Sql.timestamp(e.eventTime()), Sql.timestamp(e.receivedAt()),
                e.applied() ? "applied" : "ignored", e.rule(), e.changed(), e.previousState(), Sql.timestamp(now));
    }

    /** The ledger's current state of a customer, channel and purpose, or null; {@code lock}: SELECT ... FOR UPDATE. */
    public Held held(String hubId, String channel, String purpose, boolean lock) {
        return jdbc.query("SELECT state, reason, event_source, event_id, event_time FROM consent_state"
                + " WHERE hub_id = ? AND channel = ? AND purpose = ?" + (lock ? " FOR UPDATE" : ""),
                ConsentLedger::heldRow, hubId, channel, purpose).stream().findFirst().orElse(null);
    }

    /** The ledger's current states of these customers (every channel and purpose they have one for), unlocked. */
    public Map<Key, Held> heldAll(java.util.Collection<String> hubIds) {
        Map<Key, Held> found = new HashMap<>();
        Sql.inChunks(null, hubIds.stream().distinct().toList(), (marks, args) -> jdbc.query("SELECT hub_id, channel,"
                + " purpose, state, reason, event_source, event_id, event_time FROM consent_state WHERE hub_id IN ("
                + marks + ")", rs -> {
                    found.put(new Key(rs.getString("hub_id"), rs.getString("channel"), rs.getString("purpose")),
                            heldRow(rs, 0));
                }, args));
        return found;
    }

    private static Held heldRow(ResultSet rs, int row) throws SQLException {
        return new Held(ConsentState.valueOf(rs.getString("state").toUpperCase()), rs.getString("reason"),
                rs.getString("event_source"), rs.getString("event_id"), Sql.instant(rs, "event_time"));
    }

    void writeState(String hubId, String channel, String purpose, ConsentState state, String reason,
            String sourceSystem, String eventSource, String eventId, Instant eventTime, boolean insert, Instant now) {
        if (insert) {
            jdbc.update("INSERT INTO consent_state (hub_id, channel, purpose, state, reason, source_system,"
                    + " event_source, event_id, event_time, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                    hubId, channel, purpose, state.wireName(), reason, sourceSystem, eventSource, eventId,
                    Sql.timestamp(eventTime), Sql.timestamp(now));
        } else {
            jdbc.update("UPDATE consent_state SET state = ?, reason = ?, source_system = ?, event_source = ?,"
                    + " event_id = ?, event_time = ?, updated_at = ?, version = version + 1"
                    + " WHERE hub_id = ? AND channel = ? AND purpose = ?",
                    state.wireName(), reason, sourceSystem, eventSource, eventId, Sql.timestamp(eventTime),
                    Sql.timestamp(now), hubId, channel, purpose);
        }
    }

    CanonicalEvent consentApplied(CanonicalEvent origin, String hubId, String channel, String purpose,
            ConsentState state, String reason, Held previous, String rule) {
        Map<String, String> firstIds = new LinkedHashMap<>();
        identity.systemIds(hubId).forEach((system, ids) -> firstIds.put(system, ids.get(0)));
        return consentApplied(origin, new Snapshot(hubId, identity.emailOf(hubId).orElse(null), firstIds), channel,
                purpose, state, reason, previous, rule);
    }

    /** The consent.applied event of a change, naming the customer as {@code who} was when the change was decided. */
    private CanonicalEvent consentApplied(CanonicalEvent origin, Snapshot who, String channel, String purpose,
            ConsentState state, String reason, Held previous, String rule) {
        String hubId = who.hubId();
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.put("hubId", hubId);
        ObjectNode customer = data.putObject("customer");
        if (who.email() != null) {
            customer.put("email", who.email());
        }
        ObjectNode ids = customer.putObject("ids");
        who.ids().forEach(ids::put);
        data.put("channel", channel);
        data.put("purpose", purpose);
        data.put("state", state.wireName());
        data.put("reason", reason);
        data.put("previousState", previous == null ? null : previous.state().wireName());
        data.put("originSystem", system(origin.source()));
        data.putObject("originEvent").put("source", origin.source()).put("id", origin.id());
        // When the hub received the original delivery: propagation measures each system's delay from it.
        data.put("originReceivedAt", origin.receivedAt().toString());
        data.put("rule", rule);
        String id = Pii.sha256Hex(origin.source() + "|" + origin.id() + "|" + hubId + "|" + channel + "|" + purpose);
        return new CanonicalEvent(id, LEDGER_SOURCE, EventType.CONSENT_APPLIED, "hub:" + hubId, origin.time(),
                clock.instant(), origin.timeSource(), Map.of(), data, hubId);
    }

    static String system(String source) {
        return source.startsWith("/systems/") ? source.substring("/systems/".length()) : source;
    }

    private static String truncate(String value, int max) {
        return value == null || value.length() <= max ? value : value.substring(0, max);
    }
}
