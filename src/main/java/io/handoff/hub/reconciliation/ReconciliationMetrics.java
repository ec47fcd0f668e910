package io.handoff.hub.reconciliation;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * Gauges of the latest finished comparison per system: {@code handoff_reconciliation_drift{system,category}} (the
 * drift categories), {@code handoff_reconciliation_suppressed{system,side}} (side {@code ledger} or {@code system}),
 * and {@code handoff_reconciliation_alert{system}} (1 while the latest run's dangerous drift is over the threshold).
 */
@ApplicationScoped
public class ReconciliationMetrics {

    private final MeterRegistry registry;
    private final ReconciliationStore store;
    private final Map<String, AtomicLong> values = new ConcurrentHashMap<>();

    public ReconciliationMetrics(MeterRegistry registry, ReconciliationStore store) {
        this.registry = registry;
        this.store = store;
    }

    /** Reads the latest finished run of {@code system} into the gauges. */
    public void load(String system) {
        store.latestFinishedRun(system).ifPresent(run -> {
            Map<String, Object> row = store.jdbc().queryForMap("SELECT ledger_opted_out, system_suppressed,"
                    + " would_mail, ledger_subscribed, ledger_undecided, unknown_to_hub FROM reconciliation_system"
                    + " WHERE run_id = ? AND system = ?", run, system);
            set("handoff.reconciliation.suppressed", Tags.of("system", system, "side", "ledger"),
                    row.get("ledger_opted_out"));
            set("handoff.reconciliation.suppressed", Tags.of("system", system, "side", "system"),
                    row.get("system_suppressed"));
            set("handoff.reconciliation.drift", Tags.of("system", system, "category", ReconciliationStore.WOULD_MAIL),
                    row.get("would_mail"));
            set("handoff.reconciliation.drift",
                    Tags.of("system", system, "category", ReconciliationStore.LEDGER_SUBSCRIBED),
                    row.get("ledger_subscribed"));
            set("handoff.reconciliation.drift",
                    Tags.of("system", system, "category", ReconciliationStore.LEDGER_UNDECIDED),
                    row.get("ledger_undecided"));
            set("handoff.reconciliation.drift", Tags.of("system", system, "category", ReconciliationStore.UNKNOWN),
                    row.get("unknown_to_hub"));
        });
    }

    void alert(String system, boolean raised) {
        set("handoff.reconciliation.alert", Tags.of("system", system), raised ? 1 : 0);
    }

    private void set(String name, Tags tags, Object value) {
        String key = name + tags;
        AtomicLong holder = values.computeIfAbsent(key, k -> {
            AtomicLong created = new AtomicLong();
            Gauge.builder(name, created, AtomicLong::get).tags(tags).register(registry);
            return created;
        });
        holder.set(value instanceof Number n ? n.longValue() : 0);
    }
}
