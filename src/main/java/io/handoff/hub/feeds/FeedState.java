package io.handoff.hub.feeds;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.springframework.jdbc.core.JdbcTemplate;

import io.handoff.hub.persistence.Sql;

/** The {@code feed_state} and {@code feed_sample} tables: what each feed last delivered, and its recent records. */
@ApplicationScoped
public class FeedState {

    private final JdbcTemplate jdbc;
    private final Clock clock = Clock.systemUTC();

    public FeedState(@Named("hubDataSource") DataSource dataSource) {
        this.jdbc = new JdbcTemplate(dataSource);
    }

    /** A feed's row (all null / zero before anything arrived). */
    public record Row(String feed, Instant lastEventTime, Instant lastReceivedAt, Instant lastSyncAt,
            Long lastSyncRecords, String lastWatermark, Long lastDurationMs, int zeroRuns, Instant lastRecordsAt,
            Instant lastFailureAt, String lastFailure, long staleEvents, String alertedStatus, Instant configuredAt) {

        static Row empty(String feed) {
            return new Row(feed, null, null, null, null, null, null, 0, null, null, null, 0, null, null);
        }
    }

    /**
     * Lag and volume of a feed's records in a window, the trailing average volume per window, and the volume of the
     * same window a day earlier (the hour-of-day pattern: a quiet night is not a collapse).
     */
    public record Window(long records, Long lagP50Ms, Long lagP95Ms, double trailingRecordsPerWindow,
            long dayBeforeRecords) {
    }

    /** How far back {@link #window} reads: the trailing windows, and the same window a day earlier. */
    public static Duration lookBack(Duration window, int trailing) {
        Duration trailingWindows = window.multipliedBy(trailing + 1L);
        Duration dayBefore = Duration.ofDays(1).plus(window);
        return trailingWindows.compareTo(dayBefore) > 0 ? trailingWindows : dayBefore;
    }

    private void ensure(String feed) {
        jdbc.update("INSERT INTO feed_state (feed, zero_runs, stale_events) VALUES (?, 0, 0) ON CONFLICT DO NOTHING",
                feed);
    }

    /** A record of an event feed arrived (event time at the source, receive time at the hub). */
    public void event(String feed, Instant eventTime, Instant receivedAt) {
        ensure(feed);
        jdbc.update("UPDATE feed_state SET last_event_time = CASE WHEN last_event_time IS NULL OR last_event_time < ?"
                + " THEN ? ELSE last_event_time END, last_received_at = CASE WHEN last_received_at IS NULL"
                + " OR last_received_at < ? THEN ? ELSE last_received_at END WHERE feed = ?",
                Sql.timestamp(eventTime), Sql.timestamp(eventTime), Sql.timestamp(receivedAt),
                Sql.timestamp(receivedAt), feed);
        sample(feed, receivedAt, Math.max(0, Duration.between(eventTime, receivedAt).toMillis()), 1);
    }

    /** A batch or poll run ended well ({@code feed.synced}); zero records count towards a silent feed. */
    public void synced(String feed, Instant at, long records, String watermark, Long durationMs) {
        ensure(feed);
        // A redelivered or late heartbeat never moves the feed back.
        int updated = jdbc.update("UPDATE feed_state SET last_sync_at = ?, last_sync_records = ?, last_watermark = ?,"
                + " last_duration_ms = ?, zero_runs = CASE WHEN ? = 0 THEN zero_runs + 1 ELSE 0 END,"
                + " last_records_at = CASE WHEN ? > 0 THEN ? ELSE last_records_at END"
                + " WHERE feed = ? AND (last_sync_at IS NULL OR last_sync_at < ?)",
                Sql.timestamp(at), records, watermark, durationMs, records, records, Sql.timestamp(at), feed,
                Sql.timestamp(at));
        if (updated == 0) {
            return;
        }
        sample(feed, at, 0, (int) Math.min(Integer.MAX_VALUE, records));
    }

    /** A run failed: the feed's last success stays where it was. */
    public void failed(String feed, String why) {
        ensure(feed);
        jdbc.update("UPDATE feed_state SET last_failure_at = ?, last_failure = ? WHERE feed = ?",
                Sql.timestamp(clock.instant()), io.handoff.hub.propagation.Deliveries.truncate(why, 500), feed);
    }

    /** An event of the feed was too old to pass as current. */
    public void stale(String feed) {
        ensure(feed);
        jdbc.update("UPDATE feed_state SET stale_events = stale_events + 1 WHERE feed = ?", feed);
    }

    /** The watermark of the feed's last successful run, if any. */
    public Optional<String> watermark(String feed) {
        return row(feed).map(Row::lastWatermark);
    }

    public Optional<Row> row(String feed) {
        return jdbc.query("SELECT * FROM feed_state WHERE feed = ?", (rs, i) -> new Row(rs.getString("feed"),
                Sql.instant(rs, "last_event_time"), Sql.instant(rs, "last_received_at"), Sql.instant(rs, "last_sync_at"),
                (Long) rs.getObject("last_sync_records", Long.class), rs.getString("last_watermark"),
                (Long) rs.getObject("last_duration_ms", Long.class), rs.getInt("zero_runs"),
                Sql.instant(rs, "last_records_at"), Sql.instant(rs, "last_failure_at"), rs.getString("last_failure"),
                rs.getLong("stale_events"), rs.getString("alerted_status"), Sql.instant(rs, "configured_at")), feed)
                .stream().findFirst();
    }

    /**
     * Notes that the registry holds the feed from now on, unless an earlier start already did: its first record is
     * due a cadence and a tolerance after this (FeedStatus: pending until then).
     */
    public void configured(String feed) {
        ensure(feed);
        jdbc.update("UPDATE feed_state SET configured_at = ? WHERE feed = ? AND configured_at IS NULL",
                Sql.timestamp(clock.instant()), feed);
    }

    public Row rowOrEmpty(String feed) {
        return row(feed).orElse(Row.empty(feed));
    }

    /** Records, lag p50/p95 in the window ending now, and the average records per window over {@code trailing}. */
    public Window window(String feed, Duration window, int trailing) {
        Instant now = clock.instant();
        Instant from = now.minus(window);
        List<Long> lags = jdbc.queryForList("SELECT lag_ms FROM feed_sample WHERE feed = ? AND received_at >= ?"
                + " AND records > 0 ORDER BY lag_ms", Long.class, feed, Sql.timestamp(from));
        // The window, the trailing windows before it and the same window a day earlier, in one pass.
        Instant trailingFrom = from.minus(window.multipliedBy(trailing));
        Instant dayBeforeFrom = from.minus(Duration.ofDays(1));
        Instant dayBeforeTo = now.minus(Duration.ofDays(1));
        long[] volumes = jdbc.queryForObject("SELECT"
                + " COALESCE(SUM(CASE WHEN received_at >= ? THEN records ELSE 0 END), 0),"
                + " COALESCE(SUM(CASE WHEN received_at >= ? AND received_at < ? THEN records ELSE 0 END), 0),"
                + " COALESCE(SUM(CASE WHEN received_at >= ? AND received_at < ? THEN records ELSE 0 END), 0)"
                + " FROM feed_sample WHERE feed = ? AND received_at >= ?",
                (rs, i) -> new long[] { rs.getLong(1), rs.getLong(2), rs.getLong(3) },
                Sql.timestamp(from), Sql.timestamp(trailingFrom), Sql.timestamp(from), Sql.timestamp(dayBeforeFrom),
                Sql.timestamp(dayBeforeTo), feed,
                Sql.timestamp(trailingFrom.isBefore(dayBeforeFrom) ? trailingFrom : dayBeforeFrom));
        return new Window(volumes[0], percentile(lags, 50), percentile(lags, 95), volumes[1] / (double) trailing,
                volumes[2]);
    }

    static Long percentile(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return null;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    /**
     * Moves the status the detector alerted on from {@code from} to {@code to} (null: nothing open); false if another
     * replica moved it first (then that replica raises the alert, not this one).
     */
    public boolean alerted(String feed, String from, String to) {
        ensure(feed);
        String was = from == null ? "alerted_status IS NULL" : "alerted_status = ?";
        Object[] args = from == null ? new Object[] { to, Sql.timestamp(clock.instant()), feed }
                : new Object[] { to, Sql.timestamp(clock.instant()), feed, from };
        return jdbc.update("UPDATE feed_state SET alerted_status = ?, alerted_at = ? WHERE feed = ? AND " + was,
                args) == 1;
    }

    /** Forgets samples older than {@code before}. */
    public int forget(Instant before) {
        return jdbc.update("DELETE FROM feed_sample WHERE received_at < ?", Sql.timestamp(before));
    }

    private void sample(String feed, Instant at, long lagMs, int records) {
        jdbc.update("INSERT INTO feed_sample (feed, received_at, lag_ms, records) VALUES (?, ?, ?, ?)", feed,
                Sql.timestamp(at), lagMs, records);
    }
}
