package io.handoff.hub.feeds;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.ClientErrorException;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.JsonAnswers;

/**
 * {@code GET /api/feeds} (admin token): the sync handoff gap matrix, one row per feed of the registry: system, mode,
 * cadence, tolerance, impact, the segments depending on it, last event, last successful sync (records, watermark),
 * age, lag p50/p95 over the window, volume in the window against its trailing average, status (fresh, stale, silent)
 * with the reasons, stale events seen, the last failure. JSON, or CSV for spreadsheets with {@code ?format=csv} or
 * {@code Accept: text/csv}.
 */
@ApplicationScoped
@Named("feedAdmin")
public class FeedAdmin {

    static final List<String> CSV_COLUMNS = List.of("feed", "system", "mode", "status", "cadence", "tolerance",
            "lastEventTime", "lastReceivedAt", "lastSyncAt", "lastSyncRecords", "watermark", "ageSeconds",
            "lagP50Seconds", "lagP95Seconds", "windowRecords", "trailingRecordsPerWindow", "staleEvents",
            "lastFailureAt", "segments", "impact", "reasons");

    private final FeedMonitor monitor;

    public FeedAdmin(FeedMonitor monitor) {
        this.monitor = monitor;
    }

    public void gapMatrix(Exchange exchange) {
        Message in = exchange.getMessage();
        String format = in.getHeader("format", String.class);
        String accept = in.getHeader("Accept", String.class);
        boolean csv = "csv".equalsIgnoreCase(format) || (format == null && accept != null
                && accept.toLowerCase().startsWith("text/csv"));
        if (format != null && !format.equalsIgnoreCase("csv") && !format.equalsIgnoreCase("json")) {
            throw new ClientErrorException(400, "invalid_format", "format must be json or csv");
        }
        List<FeedStatus> statuses = monitor.statuses();
        if (csv) {
            StringBuilder out = new StringBuilder(String.join(",", CSV_COLUMNS)).append("\r\n");
            for (FeedStatus s : statuses) {
                ObjectNode row = row(s);
                for (int i = 0; i < CSV_COLUMNS.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    out.append(csvCell(row.get(CSV_COLUMNS.get(i)) == null || row.get(CSV_COLUMNS.get(i)).isNull()
                            ? "" : row.get(CSV_COLUMNS.get(i)).isArray() ? join(row.withArray(CSV_COLUMNS.get(i)))
                                    : row.get(CSV_COLUMNS.get(i)).asText()));
                }
                out.append("\r\n");
            }
            in.removeHeaders("*");
            in.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
            in.setHeader(Exchange.CONTENT_TYPE, "text/csv; charset=UTF-8");
            in.setHeader("Content-Disposition", "attachment; filename=\"feeds-gap-matrix.csv\"");
            in.setBody(out.toString().getBytes(StandardCharsets.UTF_8));
            return;
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("asOf", Instant.now().toString());
        ArrayNode feeds = body.putArray("feeds");
        statuses.forEach(s -> feeds.add(row(s)));
        JsonAnswers.answer(exchange, 200, body);
    }

    static ObjectNode row(FeedStatus s) {
        ObjectNode r = Json.MAPPER.createObjectNode();
        FeedSettings.Feed f = s.feed();
        r.put("feed", f.id());
        r.put("system", f.system());
        r.put("mode", f.mode().wireName());
        r.put("status", s.status());
        r.set("reasons", Json.MAPPER.valueToTree(s.reasons()));
        r.put("cadence", f.cadence() == null ? null : f.cadence().toString());
        r.put("tolerance", f.tolerance().toString());
        r.put("impact", f.impact());
        r.set("segments", Json.MAPPER.valueToTree(f.segments()));
        r.put("timeSensitive", f.timeSensitive());
        FeedState.Row row = s.row();
        r.put("lastEventTime", time(row.lastEventTime()));
        r.put("lastReceivedAt", time(row.lastReceivedAt()));
        r.put("lastSyncAt", time(row.lastSyncAt()));
        r.put("lastSyncRecords", row.lastSyncRecords());
        r.put("watermark", row.lastWatermark());
        r.put("lastSuccess", time(s.lastSuccess()));
        r.put("ageSeconds", s.age() == null ? null : s.age().toSeconds());
        r.put("lagP50Seconds", seconds(s.lagP50Ms()));
        r.put("lagP95Seconds", seconds(s.lagP95Ms()));
        r.put("windowRecords", s.windowRecords());
        r.put("trailingRecordsPerWindow", Math.round(s.trailingRecordsPerWindow() * 10) / 10.0);
        r.put("staleEvents", row.staleEvents());
        r.put("lastFailureAt", time(row.lastFailureAt()));
        r.put("lastFailure", row.lastFailure());
        // The status the silent-failure detector alerted on and has not seen recover (null: no open alert).
        r.put("alertedStatus", row.alertedStatus());
        // When the hub first ran with the feed in its registry: a feed that delivered nothing is pending, not silent,
        // until a cadence and a tolerance after this.
        r.put("configuredAt", time(row.configuredAt()));
        return r;
    }

    private static String time(Instant at) {
        return at == null ? null : at.toString();
    }

    private static Double seconds(Long millis) {
        return millis == null ? null : millis / 1000.0;
    }

    private static String join(ArrayNode values) {
        StringBuilder out = new StringBuilder();
        values.forEach(v -> out.append(out.length() == 0 ? "" : "; ").append(v.asText()));
        return out.toString();
    }

    /** RFC 4180: quoted when it holds a comma, quote or line break; a leading = + - @ is defused for spreadsheets. */
    static String csvCell(String value) {
        String v = value;
        if (!v.isEmpty() && "=+-@".indexOf(v.charAt(0)) >= 0 && !v.matches("-?[0-9.]+")) {
            v = "'" + v;
        }
        return v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")
                ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
    }
}
