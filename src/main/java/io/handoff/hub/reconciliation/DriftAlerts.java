package io.handoff.hub.reconciliation;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.alerts.OpsAlerts;
import io.handoff.hub.support.Json;

/**
 * Raises a {@code reconciliation.drift} alert ({@link OpsAlerts}: log, metric, optional signed webhook) for a system
 * whose latest comparison found more customers it would mail despite their opt-out than
 * {@code hub.reconciliation.alert-threshold} ({@code handoff_reconciliation_alert{system}} shows the same, see
 * {@link ReconciliationMetrics}).
 */
@ApplicationScoped
public class DriftAlerts {

    private final ReconciliationStore store;
    private final OpsAlerts alerts;
    private final long threshold;

    public DriftAlerts(ReconciliationStore store, OpsAlerts alerts,
            // Dangerous drift (would-mail contacts) a system may show before an alert; 0 alerts on any.
            @ConfigProperty(name = "hub.reconciliation.alert-threshold", defaultValue = "0") long threshold) {
        this.store = store;
        this.alerts = alerts;
        this.threshold = threshold;
    }

    /** Checks one system of a finished run; true if it raised an alert. */
    public boolean check(String runId, String system) {
        Map<String, Object> row = store.jdbc().queryForMap("SELECT status, ledger_opted_out, system_suppressed,"
                + " would_mail FROM reconciliation_system WHERE run_id = ? AND system = ?", runId, system);
        if (!(row.get("would_mail") instanceof Number wouldMail)) {
            return false;
        }
        boolean raised = wouldMail.longValue() > threshold;
        if (raised) {
            ObjectNode data = Json.MAPPER.createObjectNode();
            data.put("runId", runId).put("system", system).put("wouldMail", wouldMail.longValue())
                    .put("threshold", threshold)
                    .put("ledgerSuppressed", ((Number) row.get("ledger_opted_out")).longValue())
                    .put("systemSuppressed", ((Number) row.get("system_suppressed")).longValue())
                    .put("report", "/api/reconciliations/" + runId);
            alerts.raise("reconciliation.drift", String.format("%s would mail %d customer(s) the ledger holds as opted"
                    + " out (threshold %d; ledger %d suppressed, %s %d) - run %s", system, wouldMail.longValue(),
                    threshold, data.path("ledgerSuppressed").asLong(), system, data.path("systemSuppressed").asLong(),
                    runId), data);
        }
        return raised;
    }
}
