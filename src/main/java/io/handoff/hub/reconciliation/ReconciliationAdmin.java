package io.handoff.hub.reconciliation;

import java.io.IOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.persistence.Sql;
import io.handoff.hub.support.ClientErrorException;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.JsonAnswers;
import io.handoff.hub.support.Pii;

/**
 * The reconciliation part of the admin API:
 * <ul>
 * <li>{@code POST /api/reconciliations} with {@code {"systems": ["klaviyo"], "dryRun": true}} (every reconcilable
 * system when {@code systems} is left out; {@code dryRun} defaults to true) starts a run: 202 with its id;</li>
 * <li>{@code GET /api/reconciliations/{id}} and {@code GET /api/reconciliations/latest}: the drift report (totals per
 * system, the repair plan with the call per system, timing, pages pulled) and its contacts, emails masked unless
 * {@code ?reveal=true}; paged with {@code ?limit=} (default 100, at most 1000), {@code &offset=}, filtered with
 * {@code &category=} and {@code &system=};</li>
 * <li>{@code POST /api/reconciliations/{id}/apply}: sends a finished run's plan (a dry run's, or what remains of an
 * apply that stopped half-way).</li>
 * </ul>
 */
@ApplicationScoped
@Named("reconciliationAdmin")
public class ReconciliationAdmin {

    private final Reconciler reconciler;
    private final ReconciliationStore store;
    private final DriftRepair repair;

    public ReconciliationAdmin(Reconciler reconciler, ReconciliationStore store, DriftRepair repair) {
        this.reconciler = reconciler;
        this.store = store;
        this.repair = repair;
    }

    public void start(Exchange exchange) {
        JsonNode body = body(exchange);
        List<String> systems = new ArrayList<>();
        JsonNode requested = body.path("systems");
        if (!requested.isMissingNode() && !requested.isNull()) {
            if (!requested.isArray()) {
                throw new ClientErrorException(400, "invalid_systems", "systems must be an array of system names");
            }
            for (JsonNode s : requested) {
                if (!s.isTextual()) {
                    throw new ClientErrorException(400, "invalid_systems", "systems must be an array of system names");
                }
                if (!reconciler.systems().contains(s.asText())) {
                    throw new ClientErrorException(400, "unknown_system", "not a reconcilable system: "
                            + s.asText().replaceAll("[^a-z0-9-]", "?") + " (reconcilable: " + reconciler.systems() + ")");
                }
                if (!systems.contains(s.asText())) {
                    systems.add(s.asText());
                }
            }
        }
        if (systems.isEmpty()) {
            systems.addAll(reconciler.systems());
        }
        if (systems.isEmpty()) {
            throw new ClientErrorException(409, "no_systems", "no system is switched on with a puller");
        }
        JsonNode dryRun = body.path("dryRun");
        if (!dryRun.isMissingNode() && !dryRun.isNull() && !dryRun.isBoolean()) {
            throw new ClientErrorException(400, "invalid_dry_run", "dryRun must be true or false");
        }
        String id;
        try {
            id = reconciler.start(systems, dryRun.asBoolean(true), "api");
        } catch (IllegalStateException busy) {
            throw new ClientErrorException(409, "already_running", busy.getMessage());
        }
        ObjectNode answer = Json.MAPPER.createObjectNode().put("id", id).put("status", ReconciliationStore.RUNNING)
                .put("dryRun", dryRun.asBoolean(true)).put("report", "/api/reconciliations/" + id);
        systems.forEach(answer.putArray("systems")::add);
        JsonAnswers.answer(exchange, 202, answer);
    }

    public void report(Exchange exchange) {
        String id = exchange.getMessage().getHeader("id", String.class);
        if ("latest".equals(id)) {
            id = store.latestRunId().orElseThrow(
                    () -> new ClientErrorException(404, "no_reconciliation", "no reconciliation has run yet"));
        }
        JsonAnswers.answer(exchange, 200, reportOf(validId(id), exchange));
    }

    public void apply(Exchange exchange) {
        String id = validId(exchange.getMessage().getHeader("id", String.class));
        ObjectNode run = run(id);
        if (ReconciliationStore.RUNNING.equals(run.path("status").asText())) {
            throw new ClientErrorException(409, "still_running", "the run has not finished comparing yet");
        }
        DriftRepair.Applied applied;
        try {
            applied = repair.apply(id, false);
        } catch (IllegalStateException kafkaAway) {
            JsonAnswers.answer(exchange, 503, JsonAnswers.error("unavailable", kafkaAway.getMessage()), "5");
            return;
        }
        ObjectNode answer = Json.MAPPER.createObjectNode().put("id", id).put("deliveriesPlanned", applied.sent())
                .put("suppressionsLearned", applied.learned()).put("skipped", applied.skipped())
                .put("report", "/api/reconciliations/" + id);
        JsonAnswers.answer(exchange, 202, answer);
    }

    private ObjectNode reportOf(String id, Exchange exchange) {
        ObjectNode report = run(id);
        report.put("purpose", reconciler.purpose());
        ArrayNode systems = report.putArray("systems");
        store.jdbc().query("SELECT * FROM reconciliation_system WHERE run_id = ? ORDER BY system",
                rs -> {
                    systems.add(system(rs));
                }, id);
        for (JsonNode s : systems) {
            ObjectNode plan = ((ObjectNode) s).putObject("plan");
            store.jdbc().query("SELECT action, action_status, COUNT(*) FROM reconciliation_drift WHERE run_id = ?"
                    + " AND system = ? GROUP BY action, action_status ORDER BY action, action_status", rs -> {
                        ObjectNode action = plan.has(rs.getString(1)) ? (ObjectNode) plan.get(rs.getString(1))
                                : plan.putObject(rs.getString(1));
                        action.put(rs.getString(2), rs.getLong(3));
                    }, id, s.path("system").asText());
        }
        boolean reveal = "true".equals(exchange.getMessage().getHeader("reveal", String.class));
        int limit = bounded(exchange.getMessage().getHeader("limit", String.class), 100, 0, 1000, "limit");
        int offset = bounded(exchange.getMessage().getHeader("offset", String.class), 0, 0, Integer.MAX_VALUE,
                "offset");
        String category = exchange.getMessage().getHeader("category", String.class);
        if (category != null && !ReconciliationStore.CATEGORIES.contains(category)) {
            throw new ClientErrorException(400, "invalid_category", "category must be one of "
                    + ReconciliationStore.CATEGORIES);
        }
        String system = exchange.getMessage().getHeader("system", String.class);
        String where = " WHERE run_id = ?" + (category == null ? "" : " AND category = ?")
                + (system == null ? "" : " AND system = ?");
        List<Object> args = new ArrayList<>(List.of(id));
        if (category != null) {
            args.add(category);
        }
        if (system != null) {
            args.add(system);
        }
        report.put("contactsTotal", store.jdbc().queryForObject("SELECT COUNT(*) FROM reconciliation_drift" + where,
                Long.class, args.toArray()));
        ArrayNode contacts = report.putArray("contacts");
        args.add(limit);
        args.add(offset);
        store.jdbc().query("SELECT * FROM reconciliation_drift" + where
                + " ORDER BY system, category, email LIMIT ? OFFSET ?", rs -> {
                    contacts.add(contact(rs, reveal));
                }, args.toArray());
        return report;
    }

    private ObjectNode run(String id) {
        List<ObjectNode> runs = store.jdbc().query("SELECT * FROM reconciliation_run WHERE id = ?", (rs, i) -> {
            ObjectNode run = Json.MAPPER.createObjectNode();
            run.put("id", rs.getString("id"));
            run.put("trigger", rs.getString("trigger_kind"));
            run.put("dryRun", rs.getBoolean("dry_run"));
            run.put("status", rs.getString("status"));
            times(run, Sql.instant(rs, "started_at"), Sql.instant(rs, "finished_at"));
            Instant applied = Sql.instant(rs, "applied_at");
            run.put("appliedAt", applied == null ? null : applied.toString());
            run.put("error", rs.getString("error"));
            return run;
        }, id);
        if (runs.isEmpty()) {
            throw new ClientErrorException(404, "unknown_reconciliation", "no reconciliation " + id);
        }
        return runs.get(0);
    }

    private static ObjectNode system(ResultSet rs) throws SQLException {
        ObjectNode s = Json.MAPPER.createObjectNode();
        String system = rs.getString("system");
        s.put("system", system);
        s.put("status", rs.getString("status"));
        s.put("pages", rs.getInt("pages"));
        s.put("pageRetries", rs.getInt("page_retries"));
        s.put("pulled", rs.getLong("pulled"));
        times(s, Sql.instant(rs, "started_at"), Sql.instant(rs, "finished_at"));
        Instant pulled = Sql.instant(rs, "pulled_at");
        Instant started = Sql.instant(rs, "started_at");
        s.put("pullMs", pulled == null ? null : Duration.between(started, pulled).toMillis());
        if (ReconciliationStore.FAILED.equals(rs.getString("status"))) {
            s.put("nextCursor", rs.getString("next_cursor"));
        }
        s.put("error", rs.getString("error"));
        long ledger = rs.getLong("ledger_opted_out");
        if (!rs.wasNull()) {
            ObjectNode totals = s.putObject("totals");
            long suppressed = rs.getLong("system_suppressed");
            long wouldMail = rs.getLong("would_mail");
            totals.put("ledgerSuppressed", ledger);
            totals.put("systemSuppressed", suppressed);
            totals.put("inAgreement", rs.getLong("in_agreement"));
            totals.put("wouldMail", wouldMail);
            totals.put("ledgerSubscribed", rs.getLong("ledger_subscribed"));
            totals.put("ledgerUndecided", rs.getLong("ledger_undecided"));
            totals.put("unknownToHub", rs.getLong("unknown_to_hub"));
            s.put("summary", String.format(Locale.ROOT, "ledger %,d suppressed; %s %,d; %,d would be mailed", ledger,
                    system, suppressed, wouldMail));
            ObjectNode repaired = s.putObject("repair");
            repaired.put("deliveriesPlanned", rs.getLong("repairs_sent"));
            repaired.put("suppressionsLearned", rs.getLong("learned"));
        }
        return s;
    }

    private static ObjectNode contact(ResultSet rs, boolean reveal) throws SQLException {
        ObjectNode c = Json.MAPPER.createObjectNode();
        String email = rs.getString("email");
        String system = rs.getString("system");
        c.put("system", system);
        c.put("email", reveal ? email : mask(email));
        c.put("emailSha256", Pii.sha256Hex(email));
        c.put("category", rs.getString("category"));
        c.put("hubId", rs.getString("hub_id"));
        c.put("systemId", rs.getString("system_id"));
        c.put("ledgerState", rs.getString("ledger_state"));
        Instant ledgerTime = Sql.instant(rs, "ledger_time");
        c.put("ledgerTime", ledgerTime == null ? null : ledgerTime.toString());
        c.put("systemState", rs.getString("system_state"));
        c.put("systemReason", rs.getString("system_reason"));
        Instant systemTime = Sql.instant(rs, "system_time");
        c.put("systemTime", systemTime == null ? null : systemTime.toString());
        String action = rs.getString("action");
        c.put("action", action);
        c.put("call", call(action, system, rs.getString("ledger_state")));
        c.put("actionReason", rs.getString("action_reason"));
        c.put("actionStatus", rs.getString("action_status"));
        c.put("actionRef", rs.getString("action_ref"));
        return c;
    }

    /** What a repair does, in the system's terms. */
    static String call(String action, String system, String ledgerState) {
        if (ReconciliationStore.LEARN.equals(action)) {
            return "consent.changed from " + system + " to the ledger, then propagated to the other systems";
        }
        if (!ReconciliationStore.SEND_LEDGER_STATE.equals(action)) {
            return null;
        }
        String state = ledgerState == null ? "?" : ledgerState;
        String how = switch (system) {
            case "klaviyo" -> switch (state) {
                case "subscribed" -> "POST /api/profile-subscription-bulk-create-jobs";
                case "suppressed" -> "POST /api/profile-suppression-bulk-create-jobs";
                default -> "POST /api/profile-subscription-bulk-delete-jobs";
            };
            case "salesforce" -> "PATCH /sobjects/Contact/{id} HasOptedOutOfEmail=" + !"subscribed".equals(state);
            case "hubspot" -> "POST /communication-preferences/v4/statuses/batch/write statusState="
                    + ("subscribed".equals(state) ? "SUBSCRIBED" : "UNSUBSCRIBED");
            case "shopify" -> "GraphQL customerEmailMarketingConsentUpdate marketingState="
                    + ("subscribed".equals(state) ? "SUBSCRIBED" : "UNSUBSCRIBED");
            default -> "direct:subscriber-" + system + " (rest-subscriber route)";
        };
        return state + " through the " + system + " propagation lane: " + how;
    }

    /** {@code j***@example.com}: enough to recognise a contact among few, not to read the address. */
    static String mask(String email) {
        int at = email.indexOf('@');
        if (at <= 0) {
            return "***";
        }
        return email.charAt(0) + "***" + email.substring(at);
    }

    private static void times(ObjectNode node, Instant started, Instant finished) {
        node.put("startedAt", started.toString());
        node.put("finishedAt", finished == null ? null : finished.toString());
        node.put("durationMs", finished == null ? null : Duration.between(started, finished).toMillis());
    }

    private static String validId(String id) {
        if (id == null || !id.matches("[0-9a-f-]{36}")) {
            throw new ClientErrorException(400, "invalid_id", "a reconciliation id is a UUID (or latest)");
        }
        return id;
    }

    private static int bounded(String raw, int defaultValue, int min, int max, String name) {
        if (raw == null) {
            return defaultValue;
        }
        try {
            int value = Integer.parseInt(raw);
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new ClientErrorException(400, "invalid_" + name, name + " must be between " + min + " and " + max);
    }

    private static JsonNode body(Exchange exchange) {
        byte[] raw = exchange.getMessage().getBody(byte[].class);
        if (raw == null || raw.length == 0) {
            return Json.MAPPER.createObjectNode();
        }
        try {
            JsonNode body = Json.MAPPER.readTree(raw);
            if (body == null || !body.isObject()) {
                throw new ClientErrorException(400, "invalid_body", "the body must be a JSON object");
            }
            return body;
        } catch (IOException e) {
            throw new ClientErrorException(400, "invalid_json", "the body is not valid JSON");
        }
    }
}
