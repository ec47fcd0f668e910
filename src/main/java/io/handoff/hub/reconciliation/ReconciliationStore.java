package io.handoff.hub.reconciliation;

import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowCallbackHandler;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import io.handoff.hub.persistence.Sql;
import io.handoff.hub.reconciliation.SuppressionPuller.Suppressed;
import io.handoff.hub.support.Pii;

/**
 * The reconciliation tables: runs and their systems, the staged vendor lists, and the drift found. The comparison
 * with the ledger is SQL over the staged list ({@link #compare}), so a system with millions of contacts is compared
 * inside the database, never held in the heap; each system's list is staged in a table of its own for the run
 * ({@link #stagingTable}), dropped once compared.
 */
@ApplicationScoped
public class ReconciliationStore {

    public static final String RUNNING = "running";
    public static final String COMPLETED = "completed";
    public static final String FAILED = "failed";

    public static final String WOULD_MAIL = "would-mail";
    public static final String LEDGER_SUBSCRIBED = "ledger-subscribed";
    public static final String LEDGER_UNDECIDED = "ledger-undecided";
    public static final String UNKNOWN = "unknown-to-hub";
    public static final List<String> CATEGORIES = List.of(WOULD_MAIL, LEDGER_SUBSCRIBED, LEDGER_UNDECIDED, UNKNOWN);

    public static final String SEND_LEDGER_STATE = "send-ledger-state";
    public static final String LEARN = "learn";
    public static final String NONE = "none";

    public static final String PLANNED = "planned";
    public static final String APPLYING = "applying";
    public static final String SENT = "sent";
    public static final String SKIPPED = "skipped";

    /** Column types of a staged row, given so the driver is not asked for them on every null. */
    private static final int[] STAGE_TYPES = { Types.VARCHAR, Types.VARCHAR, Types.VARCHAR, Types.VARCHAR,
        Types.TIMESTAMP_WITH_TIMEZONE };

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    /** The comparison's statements of one system run side by side on these (the database does the work). */
    private final ExecutorService comparing = Executors.newFixedThreadPool(3, r -> {
        Thread t = new Thread(r, "reconciliation-compare");
        t.setDaemon(true);
        return t;
    });
    private final Clock clock = Clock.systemUTC();

    public ReconciliationStore(@Named("hubDataSource") DataSource dataSource) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    /**
     * Records a new run and locks its systems, in one transaction.
     *
     * @throws IllegalStateException if one of the systems is being reconciled now (on any replica)
     */
    public void createRun(String id, List<String> systems, String trigger, boolean dryRun, String owner) {
        Instant now = clock.instant();
        transactions.executeWithoutResult(tx -> {
            jdbc.update("INSERT INTO reconciliation_run (id, systems, trigger_kind, dry_run, status, started_at, owner,"
                    + " heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", id, String.join(",", systems), trigger, dryRun,
                    RUNNING, Sql.timestamp(now), truncate(owner, 128), Sql.timestamp(now));
            for (String system : systems) {
                if (jdbc.update("INSERT INTO reconciliation_lock (system, run_id, locked_at) VALUES (?, ?, ?)"
                        + " ON CONFLICT DO NOTHING", system, id, Sql.timestamp(now)) == 0) {
                    String holder = jdbc.query("SELECT run_id FROM reconciliation_lock WHERE system = ?",
                            (rs, i) -> rs.getString(1), system).stream().findFirst().orElse("?");
                    tx.setRollbackOnly();
                    throw new IllegalStateException(system + " is being reconciled now (run " + holder + ")");
                }
                jdbc.update("INSERT INTO reconciliation_system (run_id, system, status, pages, page_retries, pulled,"
                        + " started_at) VALUES (?, ?, ?, 0, 0, 0, ?)", id, system, RUNNING, Sql.timestamp(now));
            }
        });
    }

    /** Shows the run is alive: a run whose heartbeat stops is failed by {@link #failAbandoned}. */
    public void heartbeat(String runId) {
        jdbc.update("UPDATE reconciliation_run SET heartbeat_at = ? WHERE id = ?", Sql.timestamp(clock.instant()),
                runId);
    }

    /** Stages one page's contacts (a contact listed twice is kept once) and records the paging progress. */
    public void stage(String runId, String system, List<Suppressed> contacts, String nextCursor, int retries) {
        List<Object[]> rows = new ArrayList<>(contacts.size());
        for (Suppressed c : contacts) {
            String email = Pii.normaliseEmail(c.email());
            if (email != null && email.length() <= 320) {
                rows.add(new Object[] { email, truncate(c.systemId(), 255), c.state().wireName(),
                        truncate(c.reason(), 32), Sql.timestamp(c.at()) });
            }
        }
        if (!rows.isEmpty()) {
            String insert = "INSERT INTO " + stagingTable(runId, system) + " (email, system_id, state, reason,"
                    + " suppressed_at) VALUES (?, ?, ?, ?, ?)";
            try {
                // Plain inserts in one transaction are the fast path; a page that repeats a contact (Klaviyo lists a
                // profile once per suppression reason) is staged again skipping the repeats.
                transactions.executeWithoutResult(tx -> jdbc.batchUpdate(insert, rows, STAGE_TYPES));
            } catch (org.springframework.dao.DuplicateKeyException repeated) {
                transactions.executeWithoutResult(tx -> jdbc.batchUpdate(insert + " ON CONFLICT DO NOTHING", rows,
                        STAGE_TYPES));
            }
        }
        jdbc.update("UPDATE reconciliation_system SET pages = pages + 1, page_retries = page_retries + ?,"
                + " pulled = pulled + ?, next_cursor = ? WHERE run_id = ? AND system = ?", retries, contacts.size(),
                truncate(nextCursor, 4000), runId, system);
        heartbeat(runId);
    }

    /**
     * Compares the staged list of one system with the ledger's current consent for {@code purpose} on email, writing
     * one drift row per contact in drift with the repair planned for it, then the totals; deletes the staged rows.
     *
     * @param skewSeconds the ledger's clock-skew window: a vendor suppression at most this much older than the
     *        ledger's subscription still counts as the newer fact (the ledger's own tie rule)
     */
    public String compare(String runId, String system, String purpose, long skewSeconds) {
        String stage = stagingTable(runId, system);
        jdbc.update("UPDATE reconciliation_system SET pulled_at = ? WHERE run_id = ? AND system = ?",
                Sql.timestamp(clock.instant()), runId, system);
        long[] ledgerOptedOut = new long[1];
        // The categories are disjoint sets of contacts: their statements run side by side.
        String steps = inParallel(Map.of("would-mail", () -> {
            // The ledger holds an opt-out the system does not list: the system would mail them. A delivery already on its
            // way to the system is not drift to repair, only to report.
            jdbc.update("INSERT INTO reconciliation_drift (run_id, system, email, category, hub_id, system_id,"
                    + " ledger_state, ledger_time, action, action_reason, action_status)"
                    + " SELECT ?, ?, c.email, ?, c.hub_id,"
                    + " (SELECT MIN(x.system_id) FROM customer_system_id x WHERE x.hub_id = c.hub_id AND x.system = ?),"
                    + " cs.state, cs.event_time,"
                    + " CASE WHEN EXISTS (" + openDelivery() + ") THEN ? ELSE ? END,"
                    + " CASE WHEN EXISTS (" + openDelivery() + ") THEN ? ELSE ? END, ?"
                    + " FROM consent_state cs JOIN customer c ON c.hub_id = cs.hub_id"
                    + " WHERE cs.channel = 'email' AND cs.purpose = ? AND cs.state IN ('unsubscribed', 'suppressed')"
                    + " AND c.merged_into IS NULL AND c.email IS NOT NULL"
                    + " AND NOT EXISTS (SELECT 1 FROM " + stage + " s WHERE s.email = c.email)",
                    runId, system, WOULD_MAIL, system, system, purpose, NONE, SEND_LEDGER_STATE, system, purpose,
                    "in-flight: a delivery of the ledger's state to this system is on its way",
                    "the ledger holds an opt-out; the system would mail them", PLANNED, purpose);
        }, "ledger-subscribed", () -> {
            // The system suppresses a customer the ledger holds as subscribed: learn it if it is the newer fact (or its
            // time is unknown: never mail someone who may have opted out); else the system missed a newer opt-in, which
            // is sent to it, unless it suppresses for a deliverability reason no subscribe call lifts.
            String newer = "(s.suppressed_at IS NULL OR s.suppressed_at >= cs.event_time - INTERVAL '"
                    + Math.max(0, skewSeconds) + "' SECOND)";
            String deliverability = "s.reason IN ('hard_bounce', 'invalid_email', 'invalid', 'spam_complaint',"
                    + " 'spam_report')";
            jdbc.update("INSERT INTO reconciliation_drift (run_id, system, email, category, hub_id, system_id,"
                    + " ledger_state, ledger_time, system_state, system_reason, system_time, action, action_reason,"
                    + " action_status)"
                    + " SELECT ?, ?, s.email, ?, cs.hub_id, s.system_id, cs.state, cs.event_time, s.state,"
                    + " s.reason, s.suppressed_at,"
                    + " CASE WHEN " + newer + " THEN ? WHEN " + deliverability + " THEN ? ELSE ? END,"
                    + " CASE WHEN " + newer + " THEN ? WHEN " + deliverability + " THEN ? ELSE ? END, ?"
                    + " FROM " + stage + " s JOIN customer c ON c.email = s.email"
                    + " JOIN consent_state cs ON cs.hub_id = COALESCE(c.merged_into, c.hub_id) AND cs.channel = 'email'"
                    + " AND cs.purpose = ?"
                    + " WHERE cs.state = 'subscribed'",
                    runId, system, LEDGER_SUBSCRIBED, LEARN, NONE, SEND_LEDGER_STATE,
                    "the system's suppression is newer than the ledger's subscription (or undated): the ledger learns it",
                    "suppressed for a deliverability reason before the ledger's subscription; no subscribe call lifts it",
                    "the ledger's subscription is newer: the system missed it", PLANNED, purpose);
        }, "ledger-undecided", () -> {
            // Suppressed there, and the hub knows the customer but holds no decision for this purpose: learn it.
            jdbc.update("INSERT INTO reconciliation_drift (run_id, system, email, category, hub_id, system_id,"
                    + " system_state, system_reason, system_time, action, action_reason, action_status)"
                    + " SELECT ?, ?, s.email, ?, COALESCE(c.merged_into, c.hub_id), s.system_id, s.state,"
                    + " s.reason, s.suppressed_at, ?, ?, ?"
                    + " FROM " + stage + " s JOIN customer c ON c.email = s.email"
                    + " WHERE NOT EXISTS (SELECT 1 FROM consent_state cs"
                    + " WHERE cs.hub_id = COALESCE(c.merged_into, c.hub_id) AND cs.channel = 'email' AND cs.purpose = ?)",
                    runId, system, LEDGER_UNDECIDED, LEARN,
                    "the ledger holds no decision for this customer: it learns the system's", PLANNED, purpose);
        }, "unknown", () -> {
            jdbc.update("INSERT INTO reconciliation_drift (run_id, system, email, category, system_id, system_state,"
                    + " system_reason, system_time, action, action_reason, action_status)"
                    + " SELECT ?, ?, s.email, ?, s.system_id, s.state, s.reason, s.suppressed_at, ?, ?, ?"
                    + " FROM " + stage + " s WHERE NOT EXISTS (SELECT 1 FROM customer c WHERE c.email = s.email)",
                    runId, system, UNKNOWN, NONE, "unknown to the hub: reported only", PLANNED);
        }, "ledger totals", () -> {
            ledgerOptedOut[0] = jdbc.queryForObject("SELECT COUNT(*) FROM consent_state cs JOIN customer c"
                    + " ON c.hub_id = cs.hub_id WHERE cs.channel = 'email' AND cs.purpose = ?"
                    + " AND cs.state IN ('unsubscribed', 'suppressed') AND c.merged_into IS NULL AND c.email IS NOT NULL",
                    Long.class, purpose);
        }));
        Long systemSuppressed = jdbc.queryForObject("SELECT COUNT(*) FROM " + stage, Long.class);
        Map<String, Long> counts = categoryCounts(runId, system);
        long wouldMail = counts.get(WOULD_MAIL);
        jdbc.update("UPDATE reconciliation_system SET ledger_opted_out = ?, system_suppressed = ?, in_agreement = ?,"
                + " would_mail = ?, ledger_subscribed = ?, ledger_undecided = ?, unknown_to_hub = ?"
                + " WHERE run_id = ? AND system = ?", ledgerOptedOut[0], systemSuppressed,
                ledgerOptedOut[0] - wouldMail, wouldMail, counts.get(LEDGER_SUBSCRIBED), counts.get(LEDGER_UNDECIDED),
                counts.get(UNKNOWN), runId, system);
        deleteStaged(runId, system);
        return steps;
    }

    /** Runs the statements on the comparison threads; returns how long each took. */
    private String inParallel(Map<String, Runnable> statements) {
        Map<String, CompletableFuture<Long>> running = new TreeMap<>();
        statements.forEach((name, statement) -> running.put(name, CompletableFuture.supplyAsync(() -> {
            long started = System.nanoTime();
            statement.run();
            return (System.nanoTime() - started) / 1_000_000;
        }, comparing)));
        StringBuilder took = new StringBuilder();
        running.forEach((name, done) -> {
            try {
                took.append(took.length() == 0 ? "" : ", ").append(name).append(' ').append(done.join()).append(" ms");
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException cause ? cause : e;
            }
        });
        return took.toString();
    }

    private static String openDelivery() {
        return "SELECT 1 FROM delivery_key k JOIN delivery d ON d.id = k.id WHERE k.hub_id = c.hub_id AND k.system = ?"
                + " AND k.channel = 'email' AND k.purpose = ? AND d.status IN ('pending', 'sending')";
    }

    /**
     * The table one system's list is staged in during one run: a table of its own, so that a million rows are dropped
     * at once when compared (deleting them row by row took longer than comparing them).
     */
    static String stagingTable(String runId, String system) {
        return "reconciliation_stage_" + Pii.sha256Hex(runId + "/" + system).substring(0, 20);
    }

    public void createStage(String runId, String system) {
        jdbc.execute("CREATE TABLE " + stagingTable(runId, system) + " (email VARCHAR(320) NOT NULL,"
                + " system_id VARCHAR(255), state VARCHAR(16) NOT NULL, reason VARCHAR(32),"
                + " suppressed_at TIMESTAMP WITH TIME ZONE, PRIMARY KEY (email))");
    }

    public void deleteStaged(String runId, String system) {
        jdbc.execute("DROP TABLE IF EXISTS " + stagingTable(runId, system));
    }

    public Map<String, Long> categoryCounts(String runId, String system) {
        Map<String, Long> counts = new LinkedHashMap<>();
        CATEGORIES.forEach(c -> counts.put(c, 0L));
        jdbc.query("SELECT category, COUNT(*) FROM reconciliation_drift WHERE run_id = ? AND system = ?"
                + " GROUP BY category", (RowCallbackHandler) rs -> counts.put(rs.getString(1), rs.getLong(2)), runId,
                system);
        return counts;
    }

    /** Ends one system's part of a run and releases its lock. */
    public void systemFinished(String runId, String system, String status, String error) {
        jdbc.update("UPDATE reconciliation_system SET status = ?, error = ?, finished_at = ? WHERE run_id = ?"
                + " AND system = ? AND status = ?", status, truncate(error, 1000), Sql.timestamp(clock.instant()),
                runId, system, RUNNING);
        jdbc.update("DELETE FROM reconciliation_lock WHERE system = ? AND run_id = ?", system, runId);
    }

    public void runFinished(String runId) {
        Integer failed = jdbc.queryForObject("SELECT COUNT(*) FROM reconciliation_system WHERE run_id = ?"
                + " AND status = ?", Integer.class, runId, FAILED);
        jdbc.update("UPDATE reconciliation_run SET status = ?, finished_at = ?, error = ? WHERE id = ?",
                failed > 0 ? FAILED : COMPLETED, Sql.timestamp(clock.instant()),
                failed > 0 ? failed + " system(s) failed: see systems[].error" : null, runId);
    }

    /** Marks a run as applied; false if it was applied before (or is unknown). */
    public boolean markApplied(String runId) {
        return jdbc.update("UPDATE reconciliation_run SET applied_at = ? WHERE id = ? AND applied_at IS NULL",
                Sql.timestamp(clock.instant()), runId) == 1;
    }

    /** Records the repair totals of one system: what every apply of the run has sent so far. */
    public void repaired(String runId, String system) {
        jdbc.update("UPDATE reconciliation_system SET"
                + " repairs_sent = (SELECT COUNT(*) FROM reconciliation_drift d WHERE d.run_id = ? AND d.system = ?"
                + " AND d.action = ? AND d.action_status = ?),"
                + " learned = (SELECT COUNT(*) FROM reconciliation_drift d WHERE d.run_id = ? AND d.system = ?"
                + " AND d.action = ? AND d.action_status = ?) WHERE run_id = ? AND system = ?", runId, system,
                SEND_LEDGER_STATE, SENT, runId, system, LEARN, SENT, runId, system);
    }

    /**
     * One planned repair of a run, as {@link DriftRepair} carries it out, with what the ledger held when the run
     * compared (an apply skips a contact whose ledger state changed since).
     */
    public record PlannedRepair(String system, String email, String category, String hubId, String systemId,
            String action, String ledgerState, Instant ledgerTime, String systemState, String systemReason,
            Instant systemTime, Instant pulledAt) {
    }

    /** The planned repairs of one system of a run (actions other than none), a page at a time, in email order. */
    public List<PlannedRepair> plannedRepairs(String runId, String system, String afterEmail, int limit) {
        return jdbc.query("SELECT d.system, d.email, d.category, d.hub_id, d.system_id, d.action, d.ledger_state,"
                + " d.ledger_time, d.system_state, d.system_reason, d.system_time, s.pulled_at"
                + " FROM reconciliation_drift d JOIN reconciliation_system s ON s.run_id = d.run_id"
                + " AND s.system = d.system WHERE d.run_id = ? AND d.system = ? AND d.action <> ?"
                + " AND d.action_status = ? AND d.email > ? ORDER BY d.email LIMIT ?", (rs, i) -> new PlannedRepair(
                        rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getString(6), rs.getString(7), Sql.instant(rs, "ledger_time"), rs.getString(9),
                        rs.getString(10), Sql.instant(rs, "system_time"), Sql.instant(rs, "pulled_at")),
                runId, system, NONE, PLANNED, afterEmail, limit);
    }

    /** Claims one planned repair for this apply; false if another apply took it. */
    public boolean claimRepair(String runId, String system, String email) {
        return jdbc.update("UPDATE reconciliation_drift SET action_status = ? WHERE run_id = ? AND system = ?"
                + " AND email = ? AND action_status = ?", APPLYING, runId, system, email, PLANNED) == 1;
    }

    /** Gives back a claimed repair that could not be carried out now (Kafka away): the next apply takes it. */
    public void unclaimRepair(String runId, String system, String email) {
        jdbc.update("UPDATE reconciliation_drift SET action_status = ? WHERE run_id = ? AND system = ? AND email = ?"
                + " AND action_status = ?", PLANNED, runId, system, email, APPLYING);
    }

    public void actionDone(String runId, String system, String email, String status, String ref, String why) {
        jdbc.update("UPDATE reconciliation_drift SET action_status = ?, action_ref = ?, action_reason ="
                + " COALESCE(?, action_reason) WHERE run_id = ? AND system = ? AND email = ?", status,
                truncate(ref, 128), truncate(why, 255), runId, system, email);
    }

    public Optional<String> latestRunId() {
        return jdbc.query("SELECT id FROM reconciliation_run ORDER BY started_at DESC, id DESC LIMIT 1",
                (rs, i) -> rs.getString(1)).stream().findFirst();
    }

    /** The latest run that finished comparing {@code system} (for the gauges). */
    public Optional<String> latestFinishedRun(String system) {
        return jdbc.query("SELECT run_id FROM reconciliation_system WHERE system = ? AND ledger_opted_out IS NOT NULL"
                + " ORDER BY pulled_at DESC LIMIT 1", (rs, i) -> rs.getString(1), system).stream().findFirst();
    }

    /**
     * Fails the runs still marked running whose heartbeat stopped before {@code staleBefore} (their replica died), or
     * that {@code owner} holds (this replica is stopping): their systems are unlocked and their staged rows deleted.
     */
    public int failAbandoned(String why, Instant staleBefore, String owner) {
        List<String> runs = jdbc.query("SELECT id FROM reconciliation_run WHERE status = ? AND (heartbeat_at < ?"
                + " OR owner = ?)", (rs, i) -> rs.getString(1), RUNNING, Sql.timestamp(staleBefore), owner);
        for (String run : runs) {
            jdbc.update("UPDATE reconciliation_system SET status = ?, error = ?, finished_at = ? WHERE run_id = ?"
                    + " AND status = ?", FAILED, why, Sql.timestamp(clock.instant()), run, RUNNING);
            runFinished(run);
            jdbc.query("SELECT system FROM reconciliation_system WHERE run_id = ?", (rs, i) -> rs.getString(1), run)
                    .forEach(system -> deleteStaged(run, system));
            jdbc.update("DELETE FROM reconciliation_lock WHERE run_id = ?", run);
        }
        return runs.size();
    }

    /** Deletes the drift rows of all but the newest {@code keep} runs (their totals stay). */
    public int pruneDrift(int keep) {
        List<String> old = jdbc.query("SELECT id FROM reconciliation_run ORDER BY started_at DESC, id DESC"
                + " OFFSET ? ROWS", (rs, i) -> rs.getString(1), keep);
        int deleted = 0;
        for (String run : old) {
            deleted += jdbc.update("DELETE FROM reconciliation_drift WHERE run_id = ?", run);
        }
        return deleted;
    }

    JdbcTemplate jdbc() {
        return jdbc;
    }

    static String truncate(String value, int max) {
        return value == null || value.length() <= max ? value : value.substring(0, max);
    }
}
