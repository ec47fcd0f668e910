package io.handoff.hub.propagation;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.springframework.jdbc.core.ArgumentPreparedStatementSetter;
import org.springframework.jdbc.core.BatchPreparedStatementSetter;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.support.GeneratedKeyHolder;
import org.springframework.jdbc.support.KeyHolder;
import org.springframework.transaction.support.TransactionTemplate;

import io.handoff.hub.consent.ConsentLedger.Key;
import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.persistence.Sql;

/**
 * The {@code delivery} table: the lanes' durable work queue and, row by row, the receipts. Planning inserts a row
 * per change x system (a redelivered ledger event inserts nothing twice); a lane claims due rows of its system
 * (a claim expires, so a crashed replica's work is taken over), and records each outcome with its attempt.
 */
@ApplicationScoped
public class Deliveries {

    public static final String PENDING = "pending";
    public static final String SENDING = "sending";
    public static final String DELIVERED = "delivered";
    public static final String SKIPPED = "skipped";
    public static final String SUPERSEDED = "superseded";
    /** The reason of a delivery superseded by a change, and the mark of one superseded while being sent. */
    private static final String SUPERSEDED_BY_CHANGE = "superseded by change ";
    public static final String FAILED = "failed";

    static final String COLUMNS = "id, change_id, system, kind, hub_id, channel, purpose, state, reason, email,"
            + " system_id, origin_system, event_time, received_at, attempts, payload";

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final Clock clock = Clock.systemUTC();
    private final String replica = UUID.randomUUID().toString().substring(0, 8);

    private final jakarta.enterprise.event.Event<AddressConfirmed> addressConfirmed;

    public Deliveries(@Named("hubDataSource") DataSource dataSource,
            jakarta.enterprise.event.Event<AddressConfirmed> addressConfirmed) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        this.addressConfirmed = addressConfirmed;
    }

    /**
     * A system confirmed an address delivery. Observed synchronously inside the transaction that records the receipt,
     * so what the observer writes (the CRM master's confirmation, the downstream deliveries) commits with it or not
     * at all (then the delivery is sent again when its claim expires).
     */
    public record AddressConfirmed(Delivery delivery, Instant at) {
    }

    public TransactionTemplate transactions() {
        return transactions;
    }

    /** A delivery to plan: its row before it has an id. */
    public record Planned(String changeId, String system, String kind, String hubId, String channel, String purpose,
            ConsentState state, String reason, String email, String systemId, String originSystem, String originEvent,
            Instant eventTime, Instant receivedAt, String status, String statusReason, String payload) {

        /** A consent or merge delivery (no payload). */
        public Planned(String changeId, String system, String kind, String hubId, String channel, String purpose,
                ConsentState state, String reason, String email, String systemId, String originSystem,
                String originEvent, Instant eventTime, Instant receivedAt, String status, String statusReason) {
            this(changeId, system, kind, hubId, channel, purpose, state, reason, email, systemId, originSystem,
                    originEvent, eventTime, receivedAt, status, statusReason, null);
        }
    }

    /** Inserts the row unless this change was planned for this system before; true if inserted. */
    public boolean insert(Planned p) {
        return insertNew(List.of(p))[0];
    }

    private static final String INSERT = "INSERT INTO delivery (change_id, system, kind, hub_id, channel, purpose, state,"
            + " reason, email, system_id, origin_system, origin_event, event_time, received_at, planned_at, status,"
            + " status_reason, attempts, next_attempt_at, replays, payload)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?)";

    /** The id of the delivery of one change to one system (bind change_id, system). */
    private static final String ID_OF_CHANGE = "SELECT id FROM delivery_key WHERE change_id = ? AND system = ?";

    /** A delivery's lookup row; its unique key (change_id, system) refuses a change planned twice for a system. */
    private static final String INSERT_KEY = "INSERT INTO delivery_key (id, change_id, system, kind, hub_id, channel,"
            + " purpose) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

    /**
     * Inserts the rows, each with its {@code delivery_key} row, in one transaction (the caller's, if it has one): both
     * with JDBC batches, the deliveries first for their generated ids. A row whose change was planned for its system
     * before (its key row is refused: a redelivered event, or another replica planning the same event during a
     * rebalance) is deleted again before the commit, and the row already there is left as it is; the planner's later
     * writes to its rows are conditional on the status it planned ({@link #skip}, {@link #reopen}). Answers, per row,
     * whether it was inserted.
     */
    public boolean[] insertNew(List<Planned> rows) {
        boolean[] inserted = new boolean[rows.size()];
        if (rows.isEmpty()) {
            return inserted;
        }
        Instant now = clock.instant();
        return transactions.execute(tx -> {
            KeyHolder generated = new GeneratedKeyHolder();
            jdbc.batchUpdate(connection -> connection.prepareStatement(INSERT, new String[] { "id" }),
                    new BatchPreparedStatementSetter() {
                        @Override
                        public void setValues(PreparedStatement statement, int i) throws SQLException {
                            new ArgumentPreparedStatementSetter(values(rows.get(i), now)).setValues(statement);
                        }

                        @Override
                        public int getBatchSize() {
                            return rows.size();
                        }
                    }, generated);
            List<Long> ids = generated.getKeyList().stream()
                    .map(key -> ((Number) key.values().iterator().next()).longValue()).toList();
            List<Object[]> keys = new ArrayList<>(rows.size());
            for (int i = 0; i < rows.size(); i++) {
                Planned p = rows.get(i);
                keys.add(new Object[] { ids.get(i), p.changeId(), p.system(), p.kind(), p.hubId(), p.channel(),
                    p.purpose() });
            }
            int[] counts = jdbc.batchUpdate(INSERT_KEY, keys);
            List<Long> twice = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
                inserted[i] = counts[i] != 0;
                if (!inserted[i]) {
                    twice.add(ids.get(i));
                }
            }
            Sql.inChunks(null, twice, (marks, args) -> jdbc.update("DELETE FROM delivery WHERE id IN (" + marks + ")",
                    args));
            return inserted;
        });
    }

    private static Object[] values(Planned p, Instant now) {
        return new Object[] { p.changeId(), p.system(), p.kind(), p.hubId(), p.channel(), p.purpose(),
            p.state() == null ? null : p.state().wireName(), p.reason(), p.email(), p.systemId(), p.originSystem(),
            truncate(p.originEvent(), 255), Sql.timestamp(p.eventTime()), Sql.timestamp(p.receivedAt()),
            Sql.timestamp(now), p.status(), p.statusReason(), PENDING.equals(p.status()) ? Sql.timestamp(now) : null,
            truncate(p.payload(), 4000) };
    }

    /** A change planned for a system: the unique key of a delivery row. */
    public record ChangeSystem(String changeId, String system) {
    }

    /** Which of these changes were planned before, for which systems (one indexed read per chunk of ids). */
    public Set<ChangeSystem> planned(Collection<String> changeIds) {
        Set<ChangeSystem> found = new HashSet<>();
        Sql.inChunks(null, changeIds.stream().distinct().toList(), (marks, args) -> jdbc.query("SELECT change_id, system"
                + " FROM delivery_key WHERE change_id IN (" + marks + ")",
                rs -> {
                    found.add(new ChangeSystem(rs.getString(1), rs.getString(2)));
                }, args));
        return found;
    }

    /** The id of the delivery of a change to a system, if it was planned. */
    public Optional<Long> idOf(String changeId, String system) {
        return jdbc.query(ID_OF_CHANGE, (rs, i) -> rs.getLong(1), changeId, system).stream().findFirst();
    }

    /**
     * Marks the older consent deliveries of one customer/channel/purpose to these systems that are still waiting (or
     * parked) as superseded by change {@code newer}: only the newest state may reach a system. The ledger publishes a
     * customer's changes in order, so every other waiting change of the key is older.
     */
    public int supersedeOlder(String newer, String hubId, String channel, String purpose, List<String> systems) {
        return supersedeOlder(Delivery.KIND_CONSENT, newer, hubId, channel, purpose, systems);
    }

    /** {@link #supersedeOlder(String, String, String, String, List)} for deliveries of {@code kind}. */
    public int supersedeOlder(String kind, String newer, String hubId, String channel, String purpose,
            List<String> systems) {
        return supersedeOlder(List.of(new Superseding(kind, newer, hubId, channel, purpose, systems)));
    }

    /** A change that supersedes what is still waiting of its customer/channel/purpose for these systems. */
    public record Superseding(String kind, String newer, String hubId, String channel, String purpose,
            List<String> systems) {
    }

    /**
     * {@link #supersedeOlder(String, String, String, String, String, List)} for many changes of distinct
     * customers/channels/purposes, with JDBC batches (one per number of systems); answers how many were superseded.
     */
    public int supersedeOlder(List<Superseding> changes) {
        Map<Integer, List<Superseding>> bySize = new TreeMap<>();
        changes.stream().filter(c -> !c.systems().isEmpty())
                .forEach(c -> bySize.computeIfAbsent(c.systems().size(), n -> new ArrayList<>()).add(c));
        int superseded = 0;
        for (Map.Entry<Integer, List<Superseding>> group : bySize.entrySet()) {
            String which = " WHERE id IN (SELECT k.id FROM delivery_key k WHERE k.hub_id = ? AND k.channel = ?"
                    + " AND k.purpose = ? AND k.kind = ? AND k.change_id <> ? AND k.system IN ("
                    + Sql.marks(group.getKey()) + ")) AND status IN (?, ?)";
            List<Object[]> waiting = new ArrayList<>();
            List<Object[]> sending = new ArrayList<>();
            for (Superseding c : group.getValue()) {
                String why = truncate(SUPERSEDED_BY_CHANGE + c.newer(), 255);
                List<Object> args = new ArrayList<>(List.of(SUPERSEDED, why, c.hubId(), c.channel(), c.purpose(),
                        c.kind(), c.newer()));
                args.addAll(c.systems());
                args.addAll(List.of(PENDING, FAILED));
                waiting.add(args.toArray());
                List<Object> marks = new ArrayList<>(List.of(why, c.hubId(), c.channel(), c.purpose(), c.kind(),
                        c.newer()));
                marks.addAll(c.systems());
                marks.addAll(List.of(SENDING, SENDING));
                sending.add(marks.toArray());
            }
            // One being sent right now stays claimed (nothing newer may overtake it), marked: if its call fails it is
            // not tried again but superseded (a change with no delivery to this system, such as an edit made in it,
            // leaves no newer delivery for newerChange to find). Marked before and after superseding the waiting
            // ones: a lane recording a call (sending -> pending) makes the first mark wait for its commit, so the
            // superseding UPDATE then reads the row as waiting; a lane claiming one (pending -> sending) makes the
            // superseding UPDATE wait and skip it, and the second mark reads it as being sent. (PostgreSQL's UPDATE
            // picks rows by the state committed when it starts and re-checks only those after a wait.)
            String mark = "UPDATE delivery SET status_reason = ?" + which;
            jdbc.batchUpdate(mark, sending);
            for (int count : jdbc.batchUpdate("UPDATE delivery SET status = ?, status_reason = ?,"
                    + " next_attempt_at = NULL" + which, waiting)) {
                superseded += Math.max(count, 0);
            }
            jdbc.batchUpdate(mark, sending);
        }
        return superseded;
    }

    /** The systems with a consent delivery of this customer/channel/purpose on its way right now. */
    public Set<String> systemsSending(String hubId, String channel, String purpose) {
        return systemsSending(List.of(hubId)).getOrDefault(new Key(hubId, channel, purpose), Set.of());
    }

    /** Per customer/channel/purpose of these customers, the systems with a consent delivery on its way right now. */
    public Map<Key, Set<String>> systemsSending(Collection<String> hubIds) {
        Map<Key, Set<String>> sending = new HashMap<>();
        Sql.inChunks(null, hubIds.stream().distinct().toList(), (marks, args) -> {
            List<Object> all = new ArrayList<>(List.of(args));
            all.addAll(List.of(Delivery.KIND_CONSENT, SENDING));
            jdbc.query("SELECT k.hub_id, k.channel, k.purpose, k.system FROM delivery_key k JOIN delivery d"
                    + " ON d.id = k.id WHERE k.hub_id IN (" + marks + ") AND k.kind = ? AND d.status = ?", rs -> {
                        sending.computeIfAbsent(new Key(rs.getString(1), rs.getString(2), rs.getString(3)),
                                k -> new HashSet<>()).add(rs.getString(4));
                    }, all.toArray());
        });
        return sending;
    }

    /** Per customer/channel/purpose of these customers, what each system was last confirmed to hold. */
    public Map<Key, Map<String, ConsentState>> heldBySystem(Collection<String> hubIds) {
        Map<Key, Map<String, ConsentState>> held = new HashMap<>();
        Sql.inChunks(null, hubIds.stream().distinct().toList(), (marks, args) -> jdbc.query("SELECT hub_id, channel,"
                + " purpose, system, state FROM system_consent WHERE hub_id IN (" + marks + ")", rs -> {
                    held.computeIfAbsent(new Key(rs.getString(1), rs.getString(2), rs.getString(3)),
                            k -> new HashMap<>()).put(rs.getString(4), ConsentState.valueOf(rs.getString(5)
                                    .toUpperCase()));
                }, args));
        return held;
    }

    /** Turns a planned skip back into a delivery due now. */
    public void reopen(String changeId, String system, String why) {
        jdbc.update("UPDATE delivery SET status = ?, status_reason = ?, next_attempt_at = ? WHERE id IN ("
                + ID_OF_CHANGE + ") AND status = ?", PENDING, truncate(why, 255), Sql.timestamp(clock.instant()),
                changeId, system, SKIPPED);
    }

    /** Planned deliveries, still pending, that need no call after all: each change to a system, with why. */
    public void skip(List<ChangeSystem> rows, List<String> why) {
        List<Object[]> args = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            args.add(new Object[] { SKIPPED, truncate(why.get(i), 255), rows.get(i).changeId(), rows.get(i).system(),
                PENDING });
        }
        jdbc.batchUpdate("UPDATE delivery SET status = ?, status_reason = ?, next_attempt_at = NULL WHERE id IN ("
                + ID_OF_CHANGE + ") AND status = ?", args);
    }

    /** Deliveries claimed together: only the holder of {@code token} may record their outcomes. */
    public record Claim(String token, List<Delivery> deliveries) {
        public boolean isEmpty() {
            return deliveries.isEmpty();
        }
    }

    /**
     * Claims up to {@code limit} due deliveries of a system, oldest first, for {@code ttl}: pending ones whose time has
     * come and sending ones whose claim expired (a replica died mid-call). A delivery waits while an older one for the
     * same customer, channel and purpose is still being sent, so a system never receives two changes out of order.
     */
    public Claim claim(String system, int limit, Duration ttl) {
        Instant now = clock.instant();
        // Two index range scans (system, status, ...) rather than one OR that would scan the system's rows. First what
        // a replica that died left in flight (its claim ran out): it is older than anything waiting behind it, and
        // must not starve behind a steady stream of new work.
        List<Long> due = new ArrayList<>(jdbc.query("SELECT d.id FROM delivery d WHERE d.system = ? AND d.status = ?"
                + " AND d.claim_until < ? ORDER BY d.id LIMIT ?", (rs, i) -> rs.getLong(1), system, SENDING,
                Sql.timestamp(now), limit));
        if (due.size() < limit) {
            due.addAll(jdbc.query("SELECT d.id FROM delivery d WHERE d.system = ? AND d.status = ?"
                    + " AND d.next_attempt_at <= ?" + NOT_BEHIND_AN_OPEN_ONE
                    // system and status first, as the index delivery_due: both databases then read it in order.
                    + " ORDER BY d.system, d.status, d.next_attempt_at, d.id LIMIT ?",
                    (rs, i) -> rs.getLong(1), system, PENDING, Sql.timestamp(now), limit - due.size()));
        }
        if (due.isEmpty()) {
            return new Claim(null, List.of());
        }
        String token = replica + "-" + UUID.randomUUID().toString().substring(0, 12);
        String ids = Sql.marks(due.size());
        List<Object> args = new ArrayList<>(List.of(SENDING, token, Sql.timestamp(now.plus(ttl))));
        args.addAll(due);
        args.addAll(List.of(PENDING, Sql.timestamp(now), SENDING, Sql.timestamp(now)));
        // Conditional on the row still being due: of two replicas claiming the same row, one updates it.
        jdbc.update("UPDATE delivery SET status = ?, claimed_by = ?, claim_until = ? WHERE id IN (" + ids + ")"
                + " AND ((status = ? AND next_attempt_at <= ?) OR (status = ? AND claim_until < ?))", args.toArray());
        List<Object> select = new ArrayList<>(due);
        select.add(token);
        return new Claim(token, jdbc.query("SELECT " + COLUMNS + " FROM delivery WHERE id IN (" + ids + ")"
                + " AND claimed_by = ? ORDER BY id", Deliveries::row, select.toArray()));
    }

    /**
     * Extends a claim the lane still works on (a batch can take longer than one claim period when vendors are slow),
     * so that only a claim whose replica died runs out. Answers how many deliveries it still holds.
     */
    public int renew(String system, String token, Duration ttl) {
        return jdbc.update("UPDATE delivery SET claim_until = ? WHERE system = ? AND status = ? AND claimed_by = ?",
                Sql.timestamp(clock.instant().plus(ttl)), system, SENDING, token);
    }

    /**
     * A consent (or address) delivery waits while an older one of its kind for the same customer, channel and purpose
     * (address: field) is still open (waiting, being sent, or left in flight by a replica that died, until it is taken
     * over and finished) for the system, so a system never receives two changes of one customer out of order.
     */
    private static final String NOT_BEHIND_AN_OPEN_ONE = " AND NOT EXISTS (SELECT 1 FROM delivery_key k"
            + " JOIN delivery o ON o.id = k.id"
            + " WHERE k.hub_id = d.hub_id AND k.system = d.system AND k.channel = d.channel AND k.purpose = d.purpose"
            + " AND k.kind = d.kind AND d.kind IN ('consent', 'address') AND k.id < d.id"
            + " AND o.status IN ('" + PENDING + "', '" + SENDING + "'))";

    /** The receipt fields of one call. */
    public record Evidence(String method, String url, String body, Integer status, String answer, String error) {
        static Evidence of(VendorRequest request, VendorAnswer answer, String detail) {
            return new Evidence(request == null ? null : request.method(), request == null ? null : request.url(),
                    request == null ? null : request.bodyText(),
                    answer == null || answer.status() == 0 ? null : answer.status(),
                    answer == null ? null : answer.body(), detail);
        }
    }

    /**
     * Final success: confirmed now; the system now holds the delivered state. Recorded in one transaction and fenced
     * by the claim: if the claim expired and another lane took the delivery over, this result is not recorded (returns
     * false).
     */
    public boolean delivered(Delivery d, String claim, Evidence e, long millis) {
        return delivered(List.of(new Receipt(d, e, millis)), claim)[0];
    }

    /** A call's receipt: the delivery, what was sent and answered, and how long it took. */
    public record Receipt(Delivery delivery, Evidence evidence, long millis) {
    }

    /**
     * {@link #delivered(Delivery, String, Evidence, long)} for a lane's batch, with JDBC batches in one transaction;
     * answers, per receipt, whether it was recorded (false: the claim was lost).
     */
    public boolean[] delivered(List<Receipt> receipts, String claim) {
        Instant now = clock.instant();
        return transactions.execute(tx -> {
            int[] finished = jdbc.batchUpdate(FINISH, receipts.stream().map(r -> finishArgs(r.delivery(), claim,
                    DELIVERED, null, r.evidence(), now)).toList());
            boolean[] recorded = new boolean[receipts.size()];
            List<Object[]> attempts = new ArrayList<>();
            List<Holding> holdings = new ArrayList<>();
            for (int i = 0; i < receipts.size(); i++) {
                // An UPDATE's count per row (both drivers report it; a driver that reported none would count as held).
                recorded[i] = finished[i] != 0;
                if (!recorded[i]) {
                    continue;
                }
                Receipt r = receipts.get(i);
                Delivery d = r.delivery();
                attempts.add(attemptArgs(d, now, r.millis(), r.evidence(), "delivered"));
                if (Delivery.KIND_CONSENT.equals(d.kind())) {
                    holdings.add(new Holding(d.system(), new Key(d.hubId(), d.channel(), d.purpose()), d.state(), now,
                            "delivery"));
                } else if (d.isAddress()) {
                    addressConfirmed.fire(new AddressConfirmed(d, now));
                }
            }
            jdbc.batchUpdate(ATTEMPT, attempts);
            holds(holdings);
            return recorded;
        });
    }

    public boolean skipped(Delivery d, String claim, String why) {
        return jdbc.update("UPDATE delivery SET status = ?, status_reason = ?, claimed_by = NULL, claim_until = NULL,"
                + " next_attempt_at = NULL WHERE id = ? AND status = ? AND claimed_by = ?", SKIPPED, truncate(why, 255),
                d.id(), SENDING, claim) == 1;
    }

    /**
     * Another try at {@code next}; or, if a newer change of the same customer was planned for this system meanwhile,
     * superseded (the newer one goes out instead). Returns the status the delivery is left in, or null if the claim
     * was lost.
     */
    public String retry(Delivery d, String claim, Evidence e, long millis, Instant next) {
        Instant now = clock.instant();
        return transactions.execute(tx -> {
            List<String> held = lock(d, claim);
            if (held.isEmpty()) {
                return null;
            }
            Optional<String> newer = replacedBy(d, held.get(0));
            int updated = jdbc.update("UPDATE delivery SET status = ?, status_reason = ?, attempts = attempts + 1,"
                    + " next_attempt_at = ?, claimed_by = NULL, claim_until = NULL, request_method = ?, request_url = ?,"
                    + " request_body = ?, response_status = ?, response_body = ?, last_error = ?"
                    + " WHERE id = ? AND status = ? AND claimed_by = ?",
                    newer.isPresent() ? SUPERSEDED : PENDING,
                    newer.map(n -> n + " while being sent").orElse(null),
                    newer.isPresent() ? null : Sql.timestamp(next), e.method(), truncate(e.url(), 2000),
                    truncate(e.body(), 4000), e.status(), truncate(e.answer(), 2000), truncate(e.error(), 500), d.id(),
                    SENDING, claim);
            if (updated == 0) {
                return null;
            }
            attempt(d, now, millis, e, "retry");
            return newer.isPresent() ? SUPERSEDED : PENDING;
        });
    }

    /**
     * Given up: failed, waiting to be parked on the dead-letter topic; or superseded if a newer change was planned
     * meanwhile (nothing to park). Returns the status the delivery is left in, or null if the claim was lost.
     */
    public String failed(Delivery d, String claim, Evidence e, long millis, String why) {
        Instant now = clock.instant();
        return transactions.execute(tx -> {
            List<String> held = lock(d, claim);
            if (held.isEmpty()) {
                return null;
            }
            Optional<String> newer = replacedBy(d, held.get(0));
            String status = newer.isPresent() ? SUPERSEDED : FAILED;
            if (!finish(d, claim, status, newer.map(n -> n + " after: " + why).orElse(why),
                    e, now)) {
                return null;
            }
            attempt(d, now, millis, e, "failed");
            return status;
        });
    }

    private boolean finish(Delivery d, String claim, String status, String why, Evidence e, Instant now) {
        return jdbc.update(FINISH, finishArgs(d, claim, status, why, e, now)) == 1;
    }

    private static final String FINISH = "UPDATE delivery SET status = ?, status_reason = ?, attempts = attempts + 1,"
            + " next_attempt_at = NULL, claimed_by = NULL, claim_until = NULL, request_method = ?, request_url = ?,"
            + " request_body = ?, response_status = ?, response_body = ?, last_error = ?, confirmed_at = ?"
            + " WHERE id = ? AND status = ? AND claimed_by = ?";

    private static Object[] finishArgs(Delivery d, String claim, String status, String why, Evidence e, Instant now) {
        return new Object[] { status, truncate(why, 255), e.method(), truncate(e.url(), 2000), truncate(e.body(), 4000),
            e.status(), truncate(e.answer(), 2000), truncate(e.error(), 500),
            DELIVERED.equals(status) ? Sql.timestamp(now) : null, d.id(), SENDING, claim };
    }

    private void attempt(Delivery d, Instant at, long millis, Evidence e, String outcome) {
        jdbc.update(ATTEMPT, attemptArgs(d, at, millis, e, outcome));
    }

    private static final String ATTEMPT = "INSERT INTO delivery_attempt (delivery_id, attempt, attempted_at,"
            + " duration_ms, response_status, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?)";

    private static Object[] attemptArgs(Delivery d, Instant at, long millis, Evidence e, String outcome) {
        return new Object[] { d.id(), d.attempts() + 1, Sql.timestamp(at), millis, e.status(), outcome,
            truncate(e.error(), 500) };
    }

    /** Records that a system holds a state (it confirmed a delivery, or the change came from it). */
    public void holds(String system, String hubId, String channel, String purpose, ConsentState state, Instant at,
            String evidence) {
        holds(List.of(new Holding(system, new Key(hubId, channel, purpose), state, at, evidence)));
    }

    /** A system holds a state for a customer/channel/purpose: confirmed at, on what evidence. */
    public record Holding(String system, Key key, ConsentState state, Instant at, String evidence) {
        Object[] update() {
            return new Object[] { state.wireName(), Sql.timestamp(at), evidence, system, key.hubId(), key.channel(),
                key.purpose() };
        }
    }

    /** {@link #holds(String, String, String, String, ConsentState, Instant, String)} for many, with JDBC batches. */
    public void holds(List<Holding> holdings) {
        String update = "UPDATE system_consent SET state = ?, confirmed_at = ?, evidence = ? WHERE system = ?"
                + " AND hub_id = ? AND channel = ? AND purpose = ?";
        int[] updated = jdbc.batchUpdate(update, holdings.stream().map(Holding::update).toList());
        for (int i = 0; i < holdings.size(); i++) {
            if (updated[i] != 0) {
                continue;
            }
            Holding h = holdings.get(i);
            int inserted = jdbc.update("INSERT INTO system_consent (system, hub_id, channel, purpose, state,"
                    + " confirmed_at, evidence) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", h.system(),
                    h.key().hubId(), h.key().channel(), h.key().purpose(), h.state().wireName(), Sql.timestamp(h.at()),
                    h.evidence());
            if (inserted == 0) {
                jdbc.update(update, h.update());
            }
        }
    }

    /** Failed deliveries of a system not yet on the dead-letter topic (the topic was unreachable when they failed). */
    public List<Delivery> unparked(String system, int limit) {
        return jdbc.query("SELECT " + COLUMNS + " FROM delivery WHERE system = ? AND status = ? AND parked_at IS NULL"
                + " ORDER BY id LIMIT ?", Deliveries::row, system, FAILED, limit);
    }

    public void parked(long id) {
        jdbc.update("UPDATE delivery SET parked_at = ? WHERE id = ?", Sql.timestamp(clock.instant()), id);
    }

    /** A stored delivery by id. */
    public Optional<Delivery> find(long id) {
        return jdbc.query("SELECT " + COLUMNS + " FROM delivery WHERE id = ?", Deliveries::row, id).stream().findFirst();
    }

    public Optional<String> status(long id) {
        return jdbc.query("SELECT status FROM delivery WHERE id = ?", (rs, i) -> rs.getString(1), id).stream()
                .findFirst();
    }

    /**
     * A newer consent (or address) delivery for the same customer/channel/purpose (address: field) and system that
     * replaces this one, if any.
     */
    public Optional<Long> newerChange(Delivery d) {
        if (!Delivery.KIND_CONSENT.equals(d.kind()) && !d.isAddress()) {
            return Optional.empty();
        }
        return jdbc.query("SELECT k.id FROM delivery_key k JOIN delivery o ON o.id = k.id WHERE k.system = ?"
                + " AND k.hub_id = ? AND k.channel = ? AND k.purpose = ? AND k.kind = ? AND k.id > ? AND o.status <> ?"
                + " ORDER BY k.id DESC", (rs, i) -> rs.getLong(1), d.system(),
                d.hubId(), d.channel(), d.purpose(), d.kind(), d.id(), SUPERSEDED).stream().findFirst();
    }

    /**
     * Locks a delivery this claim still holds and reads its reason (one element, maybe null; none if the claim was
     * lost): a change marking it in a transaction not yet committed is waited for, so its mark is read rather than
     * overwritten by the retry.
     */
    private List<String> lock(Delivery d, String claim) {
        return jdbc.query("SELECT status_reason FROM delivery WHERE id = ? AND status = ? AND claimed_by = ? FOR UPDATE",
                (rs, i) -> rs.getString(1), d.id(), SENDING, claim);
    }

    /**
     * Why a delivery being sent is not to be tried again: a newer delivery replaces it, or a change marked it while it
     * was in flight ({@link #supersedeOlder(String, String, String, String, String, List)}); {@code reason} is the one
     * {@link #lock(Delivery, String)} read.
     */
    private Optional<String> replacedBy(Delivery d, String reason) {
        Optional<String> newer = newerChange(d).map(n -> "superseded by delivery " + n);
        return newer.isPresent() ? newer
                : Optional.ofNullable(reason).filter(r -> r.startsWith(SUPERSEDED_BY_CHANGE));
    }

    /** Puts a failed delivery back in its lane's queue, due now, with a fresh set of attempts. */
    public boolean rearm(long id) {
        Instant now = clock.instant();
        return jdbc.update("UPDATE delivery SET status = ?, status_reason = NULL, attempts = 0, next_attempt_at = ?,"
                + " replays = replays + 1 WHERE id = ? AND status = ?", PENDING, Sql.timestamp(now), id, FAILED) == 1;
    }

    public void supersededBy(long id, long newer) {
        jdbc.update("UPDATE delivery SET status = ?, status_reason = ? WHERE id = ? AND status = ?", SUPERSEDED,
                "superseded by delivery " + newer, id, FAILED);
    }

    /** Ids of a system's failed deliveries, oldest first. */
    public List<Long> failedIds(String system, int limit) {
        return jdbc.query("SELECT id FROM delivery WHERE system = ? AND status = ? ORDER BY id LIMIT ?",
                (rs, i) -> rs.getLong(1), system, FAILED, limit);
    }

    static Delivery row(ResultSet rs, int i) throws SQLException {
        return new Delivery(rs.getLong("id"), rs.getString("change_id"), rs.getString("system"), rs.getString("kind"),
                rs.getString("hub_id"), rs.getString("channel"), rs.getString("purpose"),
                rs.getString("state") == null ? null : ConsentState.valueOf(rs.getString("state").toUpperCase()),
                rs.getString("reason"), rs.getString("email"), rs.getString("system_id"), rs.getString("origin_system"),
                Sql.instant(rs, "event_time"), Sql.instant(rs, "received_at"), rs.getInt("attempts"),
                rs.getString("payload"));
    }

    /** The value, cut to {@code max} characters with an ellipsis if longer (for bounded columns). */
    public static String truncate(String value, int max) {
        return value == null || value.length() <= max ? value : value.substring(0, max - 1) + "…";
    }
}
