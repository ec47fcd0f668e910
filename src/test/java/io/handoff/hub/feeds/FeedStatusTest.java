package io.handoff.hub.feeds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.handoff.hub.event.EventType;
import io.handoff.hub.feeds.FeedSettings.Feed;
import io.handoff.hub.feeds.FeedSettings.Mode;
import io.handoff.hub.feeds.FeedState.Row;
import io.handoff.hub.feeds.FeedState.Window;

/** Fresh, stale and silent, each way, for event, batch and poll feeds. */
class FeedStatusTest {

    static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
    static final Window QUIET = new Window(0, null, null, 0, 0);

    static Feed feed(Mode mode, Duration cadence, Duration tolerance, boolean expectRecords) {
        return new Feed("f", "s", mode, Set.of(EventType.ORDER_PLACED), cadence, tolerance, "", false, expectRecords,
                List.of());
    }

    static Row synced(Instant at, int zeroRuns) {
        return new Row("f", null, null, at, 5L, null, null, zeroRuns, null, null, null, 0, null, null);
    }

    static Row synced(Instant at, int zeroRuns, Instant lastRecords) {
        return new Row("f", null, null, at, 0L, null, null, zeroRuns, lastRecords, null, null, 0, null, null);
    }

    static Row received(Instant at) {
        return new Row("f", at, at, null, null, null, null, 0, null, null, null, 0, null, null);
    }

    @Test
    void aPollFeedIsFreshWithinItsToleranceStaleAfterAndSilentPastItsCadence() {
        Feed poll = feed(Mode.POLL, Duration.ofHours(2), Duration.ofHours(1), false);
        assertEquals("fresh", FeedStatus.of(poll, synced(NOW.minusSeconds(600), 0), QUIET, NOW).status());
        FeedStatus stale = FeedStatus.of(poll, synced(NOW.minusSeconds(5400), 0), QUIET, NOW);
        assertEquals("stale", stale.status());
        assertEquals(Duration.ofSeconds(5400), stale.lag());
        assertTrue(stale.reasons().get(0).contains("tolerance 60m"), stale.reasons().toString());
        assertEquals("silent", FeedStatus.of(poll, synced(NOW.minusSeconds(3 * 3600), 0), QUIET, NOW).status());
        assertEquals("silent", FeedStatus.of(poll, Row.empty("f"), QUIET, NOW).status(), "never ran");
    }

    @Test
    void zeroRecordsWhereRecordsAreExpectedIsSilent() {
        Feed expecting = feed(Mode.POLL, null, Duration.ofHours(1), true);
        FeedStatus s = FeedStatus.of(expecting, synced(NOW.minusSeconds(60), 2), QUIET, NOW);
        assertEquals("silent", s.status());
        assertTrue(s.reasons().get(0).contains("2 run(s) in a row brought zero records"));
        assertEquals("fresh", FeedStatus.of(feed(Mode.POLL, null, Duration.ofHours(1), false),
                synced(NOW.minusSeconds(60), 2), QUIET, NOW).status(), "zero records are fine when not expected");
        // With a cadence: silent once nothing came for longer than it.
        Feed cadenced = feed(Mode.POLL, Duration.ofMinutes(30), Duration.ofHours(1), true);
        assertEquals("fresh", FeedStatus.of(cadenced, synced(NOW.minusSeconds(60), 3, NOW.minusSeconds(600)), QUIET,
                NOW).status());
        FeedStatus dry = FeedStatus.of(cadenced, synced(NOW.minusSeconds(60), 9, NOW.minusSeconds(2400)), QUIET, NOW);
        assertEquals("silent", dry.status());
        assertTrue(dry.reasons().get(0).startsWith("no records for 40m"), dry.reasons().toString());
    }

    @Test
    void anEventFeedIsStaleWhenItsEventsArriveLateNotWhenItIsQuiet() {
        Feed events = feed(Mode.EVENT, null, Duration.ofMinutes(5), false);
        assertEquals("fresh", FeedStatus.of(events, received(NOW.minusSeconds(86400)), QUIET, NOW).status(),
                "no cadence: a quiet waitlist is not a stale one");
        FeedStatus late = FeedStatus.of(events, received(NOW.minusSeconds(60)),
                new Window(3, 60_000L, 900_000L, 0, 0), NOW);
        assertEquals("stale", late.status());
        assertEquals(Duration.ofMinutes(15), late.lag(), "an event feed's lag is its p95");
        assertEquals("fresh", FeedStatus.of(events, Row.empty("f"), QUIET, NOW).status(),
                "nothing expected, nothing received");
        assertEquals("silent", FeedStatus.of(feed(Mode.EVENT, Duration.ofHours(6), Duration.ofHours(6), false),
                received(NOW.minusSeconds(7 * 3600)), QUIET, NOW).status(), "missed its cadence");
    }

    @Test
    void lateRecordsMakeOnlyAnEventFeedStale() {
        Window late = new Window(5, 3_600_000L, 7_200_000L, 0, 0);
        assertEquals("stale", FeedStatus.of(feed(Mode.EVENT, null, Duration.ofHours(1), false),
                received(NOW.minusSeconds(60)), late, NOW).status());
        assertEquals("fresh", FeedStatus.of(feed(Mode.POLL, null, Duration.ofHours(1), false),
                synced(NOW.minusSeconds(60), 0), late, NOW).status(),
                "a poll that just ran is current, however old the orders it read were");
    }

    @Test
    void aVolumeCollapseIsSilent() {
        Feed events = feed(Mode.EVENT, null, Duration.ofHours(1), false);
        FeedStatus collapsed = FeedStatus.of(events, received(NOW.minusSeconds(10)), new Window(2, 10L, 20L, 100, 90),
                NOW);
        assertEquals("silent", collapsed.status());
        assertEquals(List.of("volume collapsed: 2 records in the window against 100 on average and 90 in the same window"
                + " a day earlier"), collapsed.reasons());
        assertEquals("fresh", FeedStatus.of(events, received(NOW.minusSeconds(10)), new Window(40, 10L, 20L, 100, 90),
                NOW).status());
        assertEquals("fresh", FeedStatus.of(events, received(NOW.minusSeconds(10)), new Window(0, null, null, 5, 5),
                NOW).status(), "too little volume to call a collapse");
    }

    @Test
    void theQuietHoursOfTheNightAreNotACollapse() {
        Feed events = feed(Mode.EVENT, null, Duration.ofHours(1), false);
        // 3 records at 3 am against a day's average of 100 an hour: yesterday at 3 am brought 12.
        assertEquals("fresh", FeedStatus.of(events, received(NOW.minusSeconds(10)), new Window(3, 10L, 20L, 100, 12),
                NOW).status());
    }

    static Row configured(Instant at) {
        return new Row("f", null, null, null, null, null, null, 0, null, null, null, 0, null, at);
    }

    @Test
    void aFeedThatDeliveredNothingIsPendingUntilItsFirstRecordIsDueThenSilent() {
        Feed poll = feed(Mode.POLL, Duration.ofMinutes(30), Duration.ofHours(1), true);
        FeedStatus pending = FeedStatus.of(poll, configured(NOW.minusSeconds(60)), QUIET, NOW);
        assertEquals("pending", pending.status());
        assertFalse(pending.fresh(), "its segments are held: there is no data yet");
        assertFalse(pending.alarming(), "but nothing is late yet");
        assertEquals(List.of("nothing received yet; the first successful run is due by 2026-11-24T13:29:00Z"),
                pending.reasons());
        assertEquals("pending", FeedStatus.of(poll, configured(NOW.minusSeconds(5399)), QUIET, NOW).status());
        FeedStatus due = FeedStatus.of(poll, configured(NOW.minusSeconds(5401)), QUIET, NOW);
        assertEquals("silent", due.status(), "cadence + tolerance after it was configured");
        assertTrue(due.alarming());
        assertEquals("silent", FeedStatus.of(poll, Row.empty("f"), QUIET, NOW).status(),
                "configured at an unknown time (before the upgrade that records it): no grace");
        Feed events = feed(Mode.EVENT, Duration.ofHours(6), Duration.ofHours(6), false);
        assertEquals("pending", FeedStatus.of(events, configured(NOW.minusSeconds(3600)), QUIET, NOW).status());
        assertEquals("fresh", FeedStatus.of(feed(Mode.EVENT, null, Duration.ofMinutes(5), false),
                configured(NOW.minusSeconds(3600)), QUIET, NOW).status(), "no cadence: nothing is ever due");
        assertEquals("fresh", FeedStatus.of(events, received(NOW.minusSeconds(60)), QUIET, NOW).status());
    }

    @Test
    void silentWinsOverStale() {
        Feed poll = feed(Mode.POLL, Duration.ofHours(2), Duration.ofHours(1), true);
        FeedStatus s = FeedStatus.of(poll, synced(NOW.minusSeconds(3 * 3600), 1), QUIET, NOW);
        assertEquals("silent", s.status());
        assertEquals(3, s.reasons().size(), s.reasons().toString());
    }
}
