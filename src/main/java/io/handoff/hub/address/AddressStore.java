package io.handoff.hub.address;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import io.handoff.hub.address.AddressRules.Held;
import io.handoff.hub.address.AddressVerdicts.Verification;
import io.handoff.hub.persistence.Sql;
import static io.handoff.hub.propagation.Deliveries.truncate;

/** The address tables (V1.4.0): history, the CRM master per field, decisions and writes. */
@ApplicationScoped
public class AddressStore {

    public static final String ORIGIN_HUB = "hub";
    public static final String ORIGIN_CRM = "crm";

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final Clock clock = Clock.systemUTC();

    public AddressStore(@Named("hubDataSource") DataSource dataSource) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    public TransactionTemplate transactions() {
        return transactions;
    }

    /** An address as the event carried it. */
    public record Seen(String hubId, String field, String system, String eventId, String eventType, Instant eventTime,
            Instant receivedAt, String address, String hash, Verification verification) {
    }

    /** Appends it to the history (once per event and field). */
    public void history(Seen s) {
        jdbc.update("INSERT INTO address_history (hub_id, field, source_system, event_id, event_type, event_time,"
                + " received_at, address, value_hash, validator, level, score, verdict, recorded_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", s.hubId(), s.field(),
                s.system(), s.eventId(), s.eventType(), Sql.timestamp(s.eventTime()), Sql.timestamp(s.receivedAt()),
                s.address(), s.hash(), s.verification().validator(), s.verification().level().wireName(),
                s.verification().score(), truncate(s.verification().summary(), 255), Sql.timestamp(clock.instant()));
    }

    /** True if this event's address for this field was decided before (a redelivery). */
    public boolean decided(String eventId, String system, String field) {
        return !jdbc.queryForList("SELECT 1 FROM address_decision WHERE event_id = ? AND source_system = ?"
                + " AND field = ?", Integer.class, eventId, system, field).isEmpty();
    }

    /** What the master holds for a customer's field, locked for the rest of the transaction. */
    public Optional<Held> held(String hubId, String field) {
        return jdbc.query("SELECT value_hash, event_time, source_system, origin, version FROM address_master"
                + " WHERE hub_id = ? AND field = ? FOR UPDATE", (rs, i) -> new Held(rs.getString(1),
                        Sql.instant(rs, "event_time"), rs.getString(3), rs.getString(4), rs.getLong(5)), hubId, field)
                .stream().findFirst();
    }

    /** The value the master held before its current one (null if none). */
    public String previousHash(String hubId, String field) {
        List<String> found = jdbc.query("SELECT previous_hash FROM address_master WHERE hub_id = ? AND field = ?",
                (rs, i) -> rs.getString(1), hubId, field);
        return found.isEmpty() ? null : found.get(0);
    }

    /**
     * Sets the master's value for a field on top of {@code held} (null: none yet); returns the new version. Two
     * replicas setting it at once: one of them gets a primary key violation and decides again.
     */
    public long master(Seen s, String origin, Held held) {
        Instant now = clock.instant();
        if (held == null) {
            jdbc.update("INSERT INTO address_master (hub_id, field, address, value_hash, event_time, source_system,"
                    + " event_id, origin, updated_at, confirmed_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                    s.hubId(), s.field(), s.address(), s.hash(), Sql.timestamp(s.eventTime()), s.system(),
                    truncate(s.eventId(), 255), origin, Sql.timestamp(now),
                    ORIGIN_CRM.equals(origin) ? Sql.timestamp(now) : null);
            return 1;
        }
        int updated = jdbc.update("UPDATE address_master SET address = ?, previous_hash = value_hash, value_hash = ?,"
                + " event_time = ?, source_system = ?, event_id = ?, origin = ?, updated_at = ?, confirmed_at = ?,"
                + " version = version + 1 WHERE hub_id = ? AND field = ? AND version = ?", s.address(), s.hash(),
                Sql.timestamp(s.eventTime()), s.system(), truncate(s.eventId(), 255), origin, Sql.timestamp(now),
                ORIGIN_CRM.equals(origin) ? Sql.timestamp(now) : null, s.hubId(), s.field(), held.version());
        if (updated == 0) {
            throw new org.springframework.dao.OptimisticLockingFailureException("address master of " + s.hubId()
                    + "/" + s.field() + " changed meanwhile");
        }
        return held.version() + 1;
    }

    /** Claims the write of a value to a CRM on top of a master version; false if it was claimed before. */
    public boolean claimWrite(String hubId, String field, String hash, String system, long baseVersion,
            String eventId) {
        return jdbc.update("INSERT INTO address_write (hub_id, field, value_hash, system, base_version, event_id,"
                + " written_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", hubId, field, hash, system,
                baseVersion, truncate(eventId, 255), Sql.timestamp(clock.instant())) == 1;
    }

    public void writeDelivery(String hubId, String field, String hash, String system, long baseVersion,
            long deliveryId) {
        jdbc.update("UPDATE address_write SET delivery_id = ? WHERE hub_id = ? AND field = ? AND value_hash = ?"
                + " AND system = ? AND base_version = ?", deliveryId, hubId, field, hash, system, baseVersion);
    }

    /**
     * The hub's latest write of a field to a CRM: its value, its delivery and that delivery's status, when it was
     * written, confirmed and (if so) echoed.
     */
    public record LastWrite(String hash, long baseVersion, Long deliveryId, String status, Instant writtenAt,
            Instant confirmedAt, Instant echoedAt) {

        /** Sent or confirmed, and not yet echoed: the CRM reporting this value now is the hub's echo. */
        public boolean awaitsEcho(Instant since) {
            Instant at = confirmedAt != null ? confirmedAt : writtenAt;
            return echoedAt == null && ("sending".equals(status) || "delivered".equals(status)) && !at.isBefore(since);
        }

        /** Not yet answered by the CRM: waiting, being sent or retried. */
        public boolean open() {
            return "pending".equals(status) || "sending".equals(status);
        }
    }

    public Optional<LastWrite> lastWrite(String hubId, String field, String system) {
        return jdbc.query("SELECT w.value_hash, w.base_version, w.delivery_id, d.status, w.written_at, w.confirmed_at,"
                + " w.echoed_at FROM address_write w LEFT JOIN delivery d ON d.id = w.delivery_id"
                + " WHERE w.hub_id = ? AND w.field = ? AND w.system = ? ORDER BY w.base_version DESC, w.written_at DESC"
                + " LIMIT 1", (rs, i) -> new LastWrite(rs.getString(1), rs.getLong(2),
                        rs.getObject(3) == null ? null : rs.getLong(3), rs.getString(4), Sql.instant(rs, "written_at"),
                        Sql.instant(rs, "confirmed_at"), Sql.instant(rs, "echoed_at")), hubId, field, system)
                .stream().findFirst();
    }

    public void echoed(String hubId, String field, String system, long baseVersion, Instant at) {
        jdbc.update("UPDATE address_write SET echoed_at = ? WHERE hub_id = ? AND field = ? AND system = ?"
                + " AND base_version = ?", Sql.timestamp(at), hubId, field, system, baseVersion);
    }

    /** A CRM confirmed the write of delivery {@code deliveryId}; the master is confirmed if it still holds the value. */
    public void confirmed(long deliveryId, String hubId, String field, String hash, Instant at) {
        jdbc.update("UPDATE address_write SET confirmed_at = ? WHERE delivery_id = ? AND confirmed_at IS NULL",
                Sql.timestamp(at), deliveryId);
        jdbc.update("UPDATE address_master SET confirmed_at = ? WHERE hub_id = ? AND field = ? AND value_hash = ?"
                + " AND confirmed_at IS NULL", Sql.timestamp(at), hubId, field, hash);
    }

    /**
     * The master's version if it still holds {@code hash} for the field, with the row locked: a decision changing it
     * meanwhile waits, or has committed and this answers empty.
     */
    public Optional<Long> masterVersionHolding(String hubId, String field, String hash) {
        return jdbc.query("SELECT version, value_hash FROM address_master WHERE hub_id = ? AND field = ? FOR UPDATE",
                (rs, i) -> hash.equals(rs.getString(2)) ? rs.getLong(1) : null, hubId, field).stream()
                .filter(v -> v != null).findFirst();
    }

    /** One decision, in the write-back log. */
    public record Decision(String hubId, String field, String eventId, String sourceSystem, String targetSystem,
            Instant eventTime, String hash, String outcome, String rule, String reason, Long deliveryId) {
    }

    public void decision(Decision d) {
        jdbc.update("INSERT INTO address_decision (hub_id, field, event_id, source_system, target_system, event_time,"
                + " value_hash, outcome, rule, reason, delivery_id, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                + " ?) ON CONFLICT DO NOTHING", d.hubId(), d.field(), truncate(d.eventId(), 255), d.sourceSystem(),
                d.targetSystem(), Sql.timestamp(d.eventTime()), d.hash(), d.outcome(), d.rule(),
                truncate(d.reason(), 500), d.deliveryId(), Sql.timestamp(clock.instant()));
    }

    // Admin views -----------------------------------------------------------------------------------------------

    public List<Map<String, Object>> masterRows(String hubId) {
        return jdbc.queryForList("SELECT field, address, value_hash, event_time, source_system, event_id, origin,"
                + " updated_at, confirmed_at, version FROM address_master WHERE hub_id = ? ORDER BY field", hubId);
    }

    public List<Map<String, Object>> historyRows(String hubId, int limit) {
        return jdbc.queryForList("SELECT field, source_system, event_id, event_type, event_time, received_at, address,"
                + " value_hash, validator, level, score, verdict FROM address_history WHERE hub_id = ?"
                + " ORDER BY event_time DESC, id DESC LIMIT ?", hubId, limit);
    }

    public List<Map<String, Object>> decisionRows(String hubId, int limit) {
        return jdbc.queryForList("SELECT d.field, d.event_id, d.source_system, d.target_system, d.event_time,"
                + " d.value_hash, d.outcome, d.rule, d.reason, d.delivery_id, d.decided_at, v.status AS delivery_status,"
                + " v.confirmed_at AS delivery_confirmed_at FROM address_decision d LEFT JOIN delivery v"
                + " ON v.id = d.delivery_id WHERE d.hub_id = ? ORDER BY d.decided_at DESC, d.id DESC LIMIT ?", hubId,
                limit);
    }
}
