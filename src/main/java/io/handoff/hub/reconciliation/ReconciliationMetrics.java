package io.handoff.hub.reconciliation;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * Gauges of the latest finished comparison per system, read from the database (so every replica reports the same,
 * whichever ran it; re-read at most every {@value #MAX_AGE_SECONDS} s): {@code handoff_reconciliation_drift{system,
 * category}}, {@code handoff_reconciliation_suppressed{system,side=ledger|system}}, and
 * {@code handoff_reconciliation_alert{system}} (1 while the latest run's would-mail count is over
 * {@code hub.reconciliation.alert-threshold}).
 */
@ApplicationScoped
public class ReconciliationMetrics {

    static final long MAX_AGE_SECONDS = 10;

    private final MeterRegistry registry;
    private final ReconciliationStore store;
    private final long threshold;
    private final Map<String, Snapshot> latest = new ConcurrentHashMap<>();

    record Snapshot(long readAt, Map<String, Object> row) {
    }

    public ReconciliationMetrics(MeterRegistry registry, ReconciliationStore store,
            @ConfigProperty(name = "hub.reconciliation.alert-threshold", defaultValue = "0") long threshold) {
        this.registry = registry;
        this.store = store;
        this.threshold = threshold;
    }

    /** Registers the gauges of {@code system}. */
    public void watch(String system) {
        gauge("handoff.reconciliation.suppressed", Tags.of("system", system, "side", "ledger"), system,
                "ledger_opted_out");
        gauge("handoff.reconciliation.suppressed", Tags.of("system", system, "side", "system"), system,
                "system_suppressed");
        gauge("handoff.reconciliation.drift", Tags.of("system", system, "category", ReconciliationStore.WOULD_MAIL),
                system, "would_mail");
        gauge("handoff.reconciliation.drift",
                Tags.of("system", system, "category", ReconciliationStore.LEDGER_SUBSCRIBED), system,
                "ledger_subscribed");
        gauge("handoff.reconciliation.drift",
                Tags.of("system", system, "category", ReconciliationStore.LEDGER_UNDECIDED), system,
                "ledger_undecided");
        gauge("handoff.reconciliation.drift", Tags.of("system", system, "category", ReconciliationStore.UNKNOWN),
                system, "unknown_to_hub");
        Gauge.builder("handoff.reconciliation.alert", system,
                (ToDoubleFunction<String>) s -> value(s, "would_mail") > threshold ? 1 : 0).tags(Tags.of("system",
                        system)).description("1 while the latest reconciliation's would-mail drift is over the"
                                + " threshold").register(registry);
    }

    /** Re-reads {@code system}'s latest run now (after a run on this replica). */
    public void refresh(String system) {
        latest.remove(system);
    }

    private void gauge(String name, Tags tags, String system, String column) {
        Gauge.builder(name, system, (ToDoubleFunction<String>) s -> value(s, column)).tags(tags).register(registry);
    }

    private double value(String system, String column) {
        Snapshot snapshot = latest.compute(system, (s, old) -> old != null
                && System.nanoTime() - old.readAt() < Duration.ofSeconds(MAX_AGE_SECONDS).toNanos() ? old
                        : new Snapshot(System.nanoTime(), read(s)));
        return snapshot.row().get(column) instanceof Number n ? n.doubleValue() : 0;
    }

    private Map<String, Object> read(String system) {
        try {
            return store.latestFinishedRun(system).map(run -> store.jdbc().queryForMap("SELECT ledger_opted_out,"
                    + " system_suppressed, would_mail, ledger_subscribed, ledger_undecided, unknown_to_hub"
                    + " FROM reconciliation_system WHERE run_id = ? AND system = ?", run, system)).orElse(Map.of());
        } catch (RuntimeException e) {
            return Map.of(); // the database is away: the gauges read 0 until it is back
        }
    }
}
