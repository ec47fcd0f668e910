package io.handoff.hub.bench;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

import io.handoff.hub.kafka.EmbeddedKafkaBroker;
import io.handoff.hub.sandbox.ConsentTransitions;

/**
 * Fault runs (issue 8): the packaged hub, a Kafka broker and the simulated subscribers (Klaviyo, Salesforce, HubSpot,
 * loyalty) each in the run's hands; 10,000 storefront opt-outs (and 1,000 later re-subscribes) go in as signed
 * webhooks at a fixed rate while one fault strikes; then the run waits until every subscriber's state matches the
 * ledger and prints {@code lost: N, duplicates that changed state: N, diverged: N} with the convergence time.
 * Not part of the default build: {@code ./mvnw -B verify -Pbench -Dit.test=FaultRunsBench} (see docs/benchmarks.md).
 * <ul>
 * <li><b>lost</b>: a change the storefront was told was accepted (2xx) that the ledger does not hold, plus every
 * subscriber that does not hold the ledger's state because of it;</li>
 * <li><b>duplicates that changed state</b>: per subscriber and customer, changes of "may be mailed" beyond those the
 * ledger made (a retried or replayed call flipping a contact back);</li>
 * <li><b>diverged</b>: subscriber and customer pairs whose state differs from the ledger's when the run ends.</li>
 * </ul>
 */
class FaultRunsBench {

    static final List<String> SUBSCRIBERS = List.of("klaviyo", "salesforce", "hubspot", "loyalty");
    static final int CHANGES = Integer.getInteger("bench.changes", 10_000);
    static final int RATE = Integer.getInteger("bench.rate", 100);
    static final long CONVERGE_SECONDS = Long.getLong("bench.converge-seconds", 900);

    /** Sets up a fault before the sends start: at once, at a time into the run, or healed after the sends. */
    interface Fault {
        void strike(Run run) throws Exception;
    }

    @Test
    void subscribersAnswerErrorsTimeoutsAndThrottles() throws Exception {
        report("30% errors, timeouts and 429s", run -> {
            // 15% 503, 10% 429 with Retry-After: 1, 5% carried out but never answered; from the first send to the last.
            SUBSCRIBERS.forEach(s -> run.vendors.knobs(s, 0.15, 0.10, 0.05, false));
            run.afterSends(() -> SUBSCRIBERS.forEach(s -> run.vendors.knobs(s, 0, 0, 0, false)));
        });
    }

    @Test
    void oneSubscriberDownForAMinute() throws Exception {
        report("HubSpot down for 60 s", run -> run.at(20, () -> {
            run.vendors.knobs("hubspot", 0, 0, 0, true);
            run.at(60, () -> run.vendors.knobs("hubspot", 0, 0, 0, false));
        }));
    }

    @Test
    void kafkaBrokerStoppedAndRestarted() throws Exception {
        report("Kafka broker stopped for 20 s", run -> run.at(30, () -> {
            run.broker.stop();
            run.at(20, run.broker::start);
        }));
    }

    @Test
    void hubKilledWithSigkillAndRestarted() throws Exception {
        report("hub killed with SIGKILL and restarted", run -> run.at(30, () -> {
            run.hub.kill();
            run.restartMillis = run.hub.start();
        }));
    }

    /** One run: its broker, vendors, database and hub, and the faults' clock. */
    static final class Run implements AutoCloseable {
        final Path dir = Path.of("target", "bench", "faults", UUID.randomUUID().toString()).toAbsolutePath();
        final EmbeddedKafkaBroker broker;
        final BenchVendors vendors;
        final BenchHub.Database db;
        final BenchHub hub;
        final ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
        final List<Runnable> afterSends = new ArrayList<>();
        volatile Exception failure;
        volatile long restartMillis = -1;

        Run() throws Exception {
            Files.createDirectories(dir);
            broker = new EmbeddedKafkaBroker(BenchHub.freePort(), BenchHub.freePort(), dir.resolve("kafka"));
            broker.start();
            vendors = new BenchVendors();
            db = BenchHub.Database.create(dir);
            Map<String, String> settings = new LinkedHashMap<>();
            // A call that is not answered is given up after 2 s (the default 15 s would idle the lanes).
            SUBSCRIBERS.forEach(s -> settings.put("hub.systems." + s + ".response-timeout-ms", "2000"));
            hub = new BenchHub(dir.resolve("hub"), broker.bootstrapServers(), db, vendors.baseUrl(), "512m", settings);
        }

        void at(long seconds, ThrowingRunnable action) {
            clock.schedule(() -> {
                try {
                    action.run();
                } catch (Exception e) {
                    failure = e;
                }
            }, seconds, TimeUnit.SECONDS);
        }

        void afterSends(Runnable action) {
            afterSends.add(action);
        }

        @Override
        public void close() throws Exception {
            clock.shutdownNow();
            hub.close();
            vendors.close();
            broker.stop();
            try {
                BenchHub.dropData(dir);
            } catch (java.io.IOException e) {
                System.err.println("the fault run's data could not be deleted: " + e);
            }
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** The counts at the end of a run. */
    record Outcome(int lost, int duplicates, int diverged, int notAccepted, String detail) {
    }

    void report(String name, Fault fault) throws Exception {
        try (Run run = new Run()) {
            long startMillis = run.hub.start();
            long firstId = 7_000_000_000_000L;
            String tag = UUID.randomUUID().toString().substring(0, 8);
            List<SignedWebhooks.Change> changes = new ArrayList<>();
            Instant base = Instant.now().minusSeconds(3_600);
            for (int i = 0; i < CHANGES + 2_000; i++) {
                if (i < CHANGES) {
                    String email = "fault-" + tag + "-" + i + "@example.com";
                    SUBSCRIBERS.forEach(s -> run.vendors.subscribed(s, email));
                    changes.add(new SignedWebhooks.Change(firstId + i, email, false, base.plusMillis(i),
                            tag + "-out-" + i));
                }
                // Every tenth customer subscribes again later (a newer consent time), 2,000 sends after the opt-out.
                int back = i - 2_000;
                if (back >= 0 && back < CHANGES && back % 10 == 0) {
                    changes.add(new SignedWebhooks.Change(firstId + back, "fault-" + tag + "-" + back + "@example.com",
                            true, base.plusSeconds(1_800).plusMillis(back), tag + "-in-" + back));
                }
            }
            fault.strike(run);
            SignedWebhooks.Result sent;
            try (SignedWebhooks webhooks = new SignedWebhooks(run.hub.url(), BenchHub.SHOPIFY_SECRET)) {
                sent = webhooks.send(changes, RATE, true);
            }
            long sendsDone = System.nanoTime();
            run.afterSends.forEach(Runnable::run);
            if (run.failure != null) {
                throw run.failure;
            }
            Map<String, Boolean> expected = new HashMap<>();
            Map<String, Instant> latest = new HashMap<>();
            for (int i = 0; i < changes.size(); i++) {
                SignedWebhooks.Change c = changes.get(i);
                if (!sent.acceptedByIndex()[i]) {
                    continue; // the storefront knows it was not taken, and would send it again later
                }
                if (latest.get(c.email()) == null || latest.get(c.email()).isBefore(c.at())) {
                    latest.put(c.email(), c.at());
                    expected.put(c.email(), c.subscribed());
                }
            }
            AtomicReference<Outcome> last = new AtomicReference<>();
            try {
                await().atMost(Duration.ofSeconds(CONVERGE_SECONDS)).pollInterval(Duration.ofSeconds(2))
                        .until(() -> {
                            Outcome now = compare(run, expected, sent);
                            last.set(now);
                            return now.lost() == 0 && now.diverged() == 0;
                        });
            } catch (ConditionTimeoutException e) {
                // reported below with the last comparison
            }
            Outcome outcome = last.get();
            boolean matched = outcome.lost() == 0 && outcome.diverged() == 0;
            double converged = (System.nanoTime() - sendsDone) / 1e9;
            // The hub's own queue: every delivery confirmed (a repeat of a call a killed replica made waits for its
            // claim to run out).
            try {
                await().atMost(Duration.ofSeconds(CONVERGE_SECONDS)).pollInterval(Duration.ofSeconds(2))
                        .until(() -> pending(run) == 0);
            } catch (ConditionTimeoutException e) {
                // reported below
            }
            double drained = (System.nanoTime() - sendsDone) / 1e9;
            long stillPending = pending(run);
            long parked = count(run, "SELECT COUNT(*) FROM delivery WHERE status = 'failed'");
            long attempts = count(run, "SELECT COUNT(*) FROM delivery_attempt");
            String line = String.format("fault run %s: lost: %d, duplicates that changed state: %d, diverged: %d;"
                    + " %d webhooks (%d customers) at %d/s sent in %.0f s, %d retried by the storefront, %d never"
                    + " accepted; %s %.0f s after the last send was accepted, the"
                    + " hub's delivery queue was empty after %.0f s (%d still open); %d vendor calls, %d deliveries"
                    + " parked; hub ready in %d ms%s; database %s%s", name, outcome.lost(), outcome.duplicates(),
                    outcome.diverged(), sent.sent(), CHANGES, RATE, sent.seconds(), sent.retries(), sent.neverAccepted(),
                    matched ? "every subscriber matched the ledger" : "NOT CONVERGED: still differing", converged, drained, stillPending, attempts, parked, startMillis, run.restartMillis >= 0 ? ", again in " + run.restartMillis
                            + " ms after SIGKILL" : "", run.db.kind(), outcome.detail());
            System.out.println(line);
            Path results = Path.of("target", "bench", "results.txt");
            Files.createDirectories(results.getParent());
            Files.writeString(results, Instant.now() + " " + line + System.lineSeparator(), StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            assertEquals(0, outcome.lost(), line);
            assertEquals(0, outcome.diverged(), line);
            assertEquals(0, outcome.duplicates(), line);
        }
    }

    /** Compares the ledger with what the storefront was told was accepted, and every subscriber with the ledger. */
    static Outcome compare(Run run, Map<String, Boolean> expected, SignedWebhooks.Result sent) throws Exception {
        Map<String, String> ledger = new HashMap<>();
        Map<String, Integer> ledgerChanges = new HashMap<>();
        try (Connection c = run.db.connect(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT c.email, s.state FROM consent_state s JOIN customer c"
                    + " ON c.hub_id = s.hub_id WHERE s.channel = 'email' AND s.purpose = 'marketing'")) {
                while (rs.next()) {
                    ledger.put(rs.getString(1), rs.getString(2));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT c.email, COUNT(*) FROM consent_history h JOIN customer c"
                    + " ON c.hub_id = h.hub_id WHERE h.channel = 'email' AND h.purpose = 'marketing' AND h.changed"
                    + " GROUP BY c.email")) {
                while (rs.next()) {
                    ledgerChanges.put(rs.getString(1), rs.getInt(2));
                }
            }
        }
        int lost = 0;
        int diverged = 0;
        int duplicates = 0;
        Map<String, Integer> bySystem = new java.util.TreeMap<>();
        List<String> examples = new ArrayList<>();
        Map<String, Map<String, ConsentTransitions.Seen>> seen = new HashMap<>();
        SUBSCRIBERS.forEach(s -> seen.put(s, run.vendors.seen(s)));
        for (Map.Entry<String, Boolean> e : expected.entrySet()) {
            String state = ledger.get(e.getKey());
            boolean ledgerMailable = "subscribed".equals(state);
            if (state == null || ledgerMailable != e.getValue()) {
                lost++;
                if (examples.size() < 5) {
                    examples.add(e.getKey() + " ledger " + state + " expected " + (e.getValue() ? "subscribed"
                            : "unsubscribed"));
                }
            }
            for (String system : SUBSCRIBERS) {
                ConsentTransitions.Seen there = seen.get(system).get(e.getKey());
                if (there == null || there.mailable() != ledgerMailable) {
                    diverged++;
                    bySystem.merge(system, 1, Integer::sum);
                    if (examples.size() < 5) {
                        examples.add(e.getKey() + " ledger " + state + ", " + system + " "
                                + (there == null ? "unknown" : there.mailable() ? "mailable" : "not mailable"));
                    }
                }
                if (there != null && there.changes() > ledgerChanges.getOrDefault(e.getKey(), 0)) {
                    duplicates += there.changes() - ledgerChanges.getOrDefault(e.getKey(), 0);
                    bySystem.merge(system + " repeats", 1, Integer::sum);
                }
            }
        }
        return new Outcome(lost, duplicates, diverged, sent.neverAccepted(), bySystem.isEmpty() ? ""
                : " (" + bySystem + "; e.g. " + examples + ")");
    }

    static long pending(Run run) throws Exception {
        return count(run, "SELECT COUNT(*) FROM delivery WHERE status IN ('pending', 'sending')");
    }

    static long count(Run run, String sql) throws Exception {
        try (Connection c = run.db.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
