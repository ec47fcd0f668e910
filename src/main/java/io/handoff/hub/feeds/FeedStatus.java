package io.handoff.hub.feeds;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.handoff.hub.feeds.FeedSettings.Feed;
import io.handoff.hub.feeds.FeedSettings.Mode;
import io.handoff.hub.feeds.FeedState.Row;
import io.handoff.hub.feeds.FeedState.Window;

/**
 * A feed's freshness now, from its registry entry and what it delivered (a pure function, so the gap matrix, the
 * detector, the gauges and the segments agree):
 * <ul>
 * <li><b>last success</b>: an event feed's last record; a batch or poll feed's last successful run (a run that brings
 * nothing new still proves the feed is working);</li>
 * <li><b>silent</b>: nothing ever arrived (a feed with a cadence), nothing within the cadence, runs that brought zero
 * records where records are expected (for longer than the cadence, if it has one), or the window's volume collapsed
 * below a tenth of the trailing average;</li>
 * <li><b>stale</b>: a batch or poll feed whose last success is older than the tolerance; an event feed whose events
 * arrive later than the tolerance (p95 lag of the window);</li>
 * <li><b>pending</b>: nothing arrived yet, and the first record or run is not due yet (a cadence and a tolerance after
 * the hub first ran with the feed in its registry): not fresh, so its segments are held, but no alarm;</li>
 * <li><b>fresh</b> otherwise.</li>
 * </ul>
 * The volume rule compares the window with the trailing average and with the same window a day earlier, so the quiet
 * hours of the night are not a collapse.
 */
public record FeedStatus(Feed feed, String status, List<String> reasons, Instant lastSuccess, Duration age,
        Long lagP50Ms, Long lagP95Ms, long windowRecords, double trailingRecordsPerWindow, Row row) {

    public static final String FRESH = "fresh";
    public static final String STALE = "stale";
    public static final String SILENT = "silent";
    public static final String PENDING = "pending";
    /** Volume below this share of the trailing average is a collapse, once the average is at least MIN_VOLUME. */
    static final double COLLAPSE = 0.1;
    static final double MIN_VOLUME = 10;

    public static FeedStatus of(Feed feed, Row row, Window window, Instant now) {
        Instant lastSuccess = feed.mode() == Mode.EVENT ? row.lastReceivedAt() : row.lastSyncAt();
        Duration age = lastSuccess == null ? null : Duration.between(lastSuccess, now);
        List<String> silent = new ArrayList<>();
        // A feed with a cadence, and every batch or poll feed, is expected to deliver something.
        if (lastSuccess == null && (feed.cadence() != null || feed.mode() != Mode.EVENT)) {
            Instant firstDue = row.configuredAt() == null ? null : row.configuredAt()
                    .plus(feed.cadence() == null ? Duration.ZERO : feed.cadence()).plus(feed.tolerance());
            if (firstDue != null && now.isBefore(firstDue)) {
                return new FeedStatus(feed, PENDING, List.of("nothing received yet; the first "
                        + (feed.mode() == Mode.EVENT ? "record" : "successful run") + " is due by " + firstDue), null,
                        null, window.lagP50Ms(), window.lagP95Ms(), window.records(),
                        window.trailingRecordsPerWindow(), row);
            }
            silent.add("nothing received yet");
        }
        if (age != null && feed.cadence() != null && age.compareTo(feed.cadence()) > 0) {
            silent.add("missed its cadence: last " + (feed.mode() == Mode.EVENT ? "record" : "successful run") + " "
                    + human(age) + " ago, expected every " + human(feed.cadence()));
        }
        if (feed.expectRecords() && row.zeroRuns() > 0) {
            // Zero records is silent at once without a cadence; with one, once nothing came for longer than it.
            Duration since = row.lastRecordsAt() == null ? null : Duration.between(row.lastRecordsAt(), now);
            if (feed.cadence() == null) {
                silent.add(row.zeroRuns() + " run(s) in a row brought zero records");
            } else if (since == null || since.compareTo(feed.cadence()) > 0) {
                silent.add("no records " + (since == null ? "in any run yet" : "for " + human(since)) + " ("
                        + row.zeroRuns() + " run(s) with zero records), expected within " + human(feed.cadence()));
            }
        }
        if (window.trailingRecordsPerWindow() >= MIN_VOLUME
                && window.records() < COLLAPSE * window.trailingRecordsPerWindow()
                && window.records() < COLLAPSE * window.dayBeforeRecords()) {
            silent.add("volume collapsed: " + window.records() + " records in the window against "
                    + Math.round(window.trailingRecordsPerWindow()) + " on average and " + window.dayBeforeRecords()
                    + " in the same window a day earlier");
        }
        List<String> stale = new ArrayList<>();
        if (feed.mode() != Mode.EVENT && age != null && age.compareTo(feed.tolerance()) > 0) {
            stale.add("last successful run " + human(age) + " ago, tolerance " + human(feed.tolerance()));
        }
        if (feed.mode() == Mode.EVENT && window.lagP95Ms() != null && window.lagP95Ms() > feed.tolerance().toMillis()) {
            stale.add("events arrive " + human(Duration.ofMillis(window.lagP95Ms())) + " late (p95), tolerance "
                    + human(feed.tolerance()));
        }
        String status = !silent.isEmpty() ? SILENT : !stale.isEmpty() ? STALE : FRESH;
        List<String> reasons = new ArrayList<>(silent);
        reasons.addAll(stale);
        return new FeedStatus(feed, status, List.copyOf(reasons), lastSuccess, age, window.lagP50Ms(),
                window.lagP95Ms(), window.records(), window.trailingRecordsPerWindow(), row);
    }

    public boolean fresh() {
        return FRESH.equals(status);
    }

    /** Stale or silent: what the detector alerts on (pending is not fresh, but nothing is late yet). */
    public boolean alarming() {
        return STALE.equals(status) || SILENT.equals(status);
    }

    /** The lag a segment hold names: how old the feed's data is (event feeds: the p95 lag, else the age). */
    public Duration lag() {
        if (feed.mode() == Mode.EVENT && lagP95Ms != null) {
            return Duration.ofMillis(lagP95Ms);
        }
        return age;
    }

    /** 90s, 5m, 3h12m, 2d4h. */
    static String human(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 120) {
            return s + "s";
        }
        if (s < 7200) {
            return (s / 60) + "m";
        }
        if (s < 172800) {
            return (s / 3600) + "h" + (s % 3600 / 60 == 0 ? "" : (s % 3600 / 60) + "m");
        }
        return (s / 86400) + "d" + (s % 86400 / 3600 == 0 ? "" : (s % 86400 / 3600) + "h");
    }
}
