package io.handoff.hub.consent;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
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
import io.handoff.hub.persistence.Sql;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * The consent ledger: applies {@code consent.changed} events to the one authoritative state per customer x channel x
 * purpose, by {@link ConsentRules}, and keeps every event in the append-only history with the rule that decided it.
 * <p>
 * Each decision is one database transaction that locks the held state row ({@code SELECT ... FOR UPDATE}); a
 * first event racing another replica's first event hits the primary key and is decided again. For every change it
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
    private final TransactionTemplate transactions;
    private final IdentityResolver identity;
    private final CanonicalEventCodec codec;
    private final Duration skew;
    private final Set<String> purposes;
    private final Clock clock = Clock.systemUTC();

    public ConsentLedger(@Named("hubDataSource") DataSource dataSource, IdentityResolver identity,
            CanonicalEventCodec codec,
            // Events closer in time than this are treated as simultaneous: the most restrictive state wins.
            @ConfigProperty(name = "hub.consent.clock-skew-ms", defaultValue = "5000") long skewMs,
            // Purposes the ledger keeps consent for; events for other purposes are recorded and ignored.
            @ConfigProperty(name = "hub.consent.purposes", defaultValue = "marketing") Set<String> purposes) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        this.identity = identity;
        this.codec = codec;
        this.skew = Duration.ofMillis(skewMs);
        this.purposes = Set.copyOf(purposes);
    }

    /** What one consent event did to the ledger. */
    public record Outcome(String hubId, String channel, String purpose, Decision decision, CanonicalEvent applied) {
    }

    /** Camel entry point: the Kafka record's value is a structured CloudEvent; returns the events to publish. */
    public List<CanonicalEvent> applyRecord(Exchange exchange) {
        CanonicalEvent event = codec.read(exchange);
        if (event.type() != EventType.CONSENT_CHANGED) {
            return List.of();
        }
        return apply(event).stream().map(Outcome::applied).filter(e -> e != null).toList();
    }

    public List<Outcome> apply(CanonicalEvent event) {
        ObjectNode data = event.data();
        CustomerRef ref = CustomerRef.of(data.path("customer"));
        if (!ref.identifiesSomeone()) {
            LOG.warnf("consent event %s from %s names no email or system id: not applied", event.id(),
                    event.source());
            return List.of();
        }
        String hubId = identity.resolve(ref).hubId();
        String channel = data.path("channel").asText();
        String purpose = data.hasNonNull("purpose") ? data.get("purpose").asText() : "marketing";
        Optional<ConsentState> state = ConsentState.fromWireName(data.path("state").asText());
        String reason = state.filter(s -> s == ConsentState.SUPPRESSED).map(s -> Json.text(data, "reason"))
                .orElse(null);
        Incoming incoming = new Incoming(state.orElse(null), reason, event.source(), event.id(), event.time());
        String rawState = data.path("state").asText();
        Outcome outcome = decideWithRetries(event, hubId, channel, purpose, incoming, rawState);
        LOG.infof("consent %s for %s %s/%s: %s (%s)", event.id(), hubId, channel, purpose,
                outcome.decision().applied() ? "applied" : "ignored", outcome.decision().rule());
        return List.of(outcome);
    }

    private Outcome decideWithRetries(CanonicalEvent event, String hubId, String channel, String purpose,
            Incoming incoming, String rawState) {
        for (int attempt = 1;; attempt++) {
            try {
                return transactions.execute(tx -> decide(event, hubId, channel, purpose, incoming, rawState));
            } catch (DataIntegrityViolationException | ConcurrencyFailureException raced) {
                if (attempt >= MAX_ATTEMPTS) {
                    throw raced;
                }
                LOG.debugf("consent %s raced another replica, deciding again (attempt %d)", event.id(), attempt);
            }
        }
    }

    private Outcome decide(CanonicalEvent event, String hubId, String channel, String purpose, Incoming in,
            String rawState) {
        Held held = held(hubId, channel, purpose, true);
        Decision decision;
        Optional<Boolean> earlier = earlierDecision(event, hubId, channel, purpose);
        if (earlier.isPresent()) {
            decision = new Decision(false, false, "duplicate");
        } else if (!purposes.contains(purpose)) {
            decision = new Decision(false, false, "unconfigured-purpose");
        } else {
            decision = ConsentRules.decide(held, in, skew);
        }
        Instant now = clock.instant();
        String stateName = in.state() == null ? rawState : in.state().wireName();
        recordHistory(new HistoryEntry(hubId, channel, purpose, truncate(stateName, 16), in.reason(),
                system(event.source()), event.source(), event.id(), event.time(), event.receivedAt(),
                decision.applied(), decision.rule(), decision.changed(), held == null ? null : held.state().wireName()),
                now);
        if (decision.applied()) {
            writeState(hubId, channel, purpose, in.state(), in.reason(), system(event.source()), event.source(),
                    event.id(), event.time(), held == null, now);
        }
        CanonicalEvent applied = null;
        if (decision.changed() || (earlier.orElse(false) && held != null)) {
            // A duplicate of an event that changed the state publishes the same consent.applied again: the first
            // publish may be what failed.
            ConsentState state = decision.changed() ? in.state() : held.state();
            String reason = decision.changed() ? in.reason() : held.reason();
            applied = consentApplied(event, hubId, channel, purpose, state, reason,
                    decision.changed() && held != null ? held : null, decision.changed() ? decision.rule() : "republished");
        }
        return new Outcome(hubId, channel, purpose, decision, applied);
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

    /** Empty if the event was never decided for this customer/channel/purpose; else whether it changed the state. */
    private Optional<Boolean> earlierDecision(CanonicalEvent event, String hubId, String channel, String purpose) {
        return jdbc.query("SELECT changed FROM consent_history WHERE event_source = ? AND event_id = ? AND hub_id = ?"
                + " AND channel = ? AND purpose = ? ORDER BY id", (rs, i) -> rs.getBoolean(1), event.source(),
                event.id(), hubId, channel, purpose).stream().findFirst();
    }

    /** The ledger's current state of a customer, channel and purpose, or null; {@code lock}: SELECT ... FOR UPDATE. */
    public Held held(String hubId, String channel, String purpose, boolean lock) {
        return jdbc.query("SELECT state, reason, event_source, event_id, event_time FROM consent_state"
                + " WHERE hub_id = ? AND channel = ? AND purpose = ?" + (lock ? " FOR UPDATE" : ""),
                ConsentLedger::heldRow, hubId, channel, purpose).stream().findFirst().orElse(null);
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
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.put("hubId", hubId);
        ObjectNode customer = data.putObject("customer");
        identity.emailOf(hubId).ifPresent(email -> customer.put("email", email));
        ObjectNode ids = customer.putObject("ids");
        for (Map.Entry<String, List<String>> e : identity.systemIds(hubId).entrySet()) {
            ids.put(e.getKey(), e.getValue().get(0));
        }
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
