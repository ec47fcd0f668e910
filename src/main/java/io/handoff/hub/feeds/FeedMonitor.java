package io.handoff.hub.feeds;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.quarkus.main.events.AfterStart;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.alerts.OpsAlerts;
import io.handoff.hub.scheduling.FireClaims;
import io.handoff.hub.support.Json;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.quarkus.scheduler.Scheduled.ConcurrentExecution;
import io.quarkus.scheduler.Scheduler;

/**
 * Every feed's status now ({@link FeedStatus}), the gauges per feed, and the silent-failure detector: every
 * {@code hub.feeds.check-interval} (default 30s) one replica (a {@link FireClaims} claim per fire) compares each
 * feed's status with the one it last alerted on, and raises an alert (log, {@code handoff_alerts_total}, the signed
 * ops webhook) when a feed turns stale or silent, and once more when it recovers: once per change, not every check.
 * {@code hub.feeds.window} (default PT1H) is the window of the lag percentiles and the volume, compared with the
 * average of the 24 windows before it.
 */
@ApplicationScoped
public class FeedMonitor {

    private static final Logger LOG = Logger.getLogger(FeedMonitor.class);
    static final int TRAILING_WINDOWS = 24;
    static final String JOB = "feed-detector";

    private final FeedSettings settings;
    private final FeedState state;
    private final OpsAlerts alerts;
    private final FireClaims claims;
    private final Scheduler scheduler;
    private final MeterRegistry registry;
    private final Duration window;
    private final String interval;
    private final Clock clock = Clock.systemUTC();

    public FeedMonitor(FeedSettings settings, FeedState state, OpsAlerts alerts, FireClaims claims, Scheduler scheduler,
            MeterRegistry registry, @ConfigProperty(name = "hub.feeds.window", defaultValue = "PT1H") Duration window,
            @ConfigProperty(name = "hub.feeds.check-interval", defaultValue = "30s") String interval) {
        this.settings = settings;
        this.state = state;
        this.alerts = alerts;
        this.claims = claims;
        this.scheduler = scheduler;
        this.registry = registry;
        this.window = window;
        this.interval = interval;
    }

    public List<FeedStatus> statuses() {
        Instant now = clock.instant();
        return settings.feeds().stream().map(f -> FeedStatus.of(f, state.rowOrEmpty(f.id()),
                state.window(f.id(), window, TRAILING_WINDOWS), now)).toList();
    }

    public Optional<FeedStatus> status(String feed) {
        Instant now = clock.instant();
        return settings.feed(feed).map(f -> FeedStatus.of(f, state.rowOrEmpty(f.id()),
                state.window(f.id(), window, TRAILING_WINDOWS), now));
    }

    /** The statuses the gauges read: computed once for all of them, for a few seconds (one scrape). */
    private record Snapshot(Instant at, java.util.Map<String, FeedStatus> byFeed) {
    }

    private volatile Snapshot snapshot = new Snapshot(Instant.EPOCH, java.util.Map.of());

    private Optional<FeedStatus> forGauges(String feed) {
        Snapshot s = snapshot;
        if (Duration.between(s.at(), clock.instant()).compareTo(Duration.ofSeconds(5)) > 0) {
            java.util.Map<String, FeedStatus> byFeed = new java.util.HashMap<>();
            statuses().forEach(f -> byFeed.put(f.feed().id(), f));
            s = new Snapshot(clock.instant(), byFeed);
            snapshot = s;
        }
        return Optional.ofNullable(s.byFeed().get(feed));
    }

    void start(@Observes AfterStart event) {
        for (FeedSettings.Feed feed : settings.feeds()) {
            try {
                state.configured(feed.id());
            } catch (RuntimeException e) {
                // The database is down at start-up: the feed has no grace (silent if nothing comes), as before.
                LOG.warnf("feed %s: could not note when it was configured: %s", feed.id(), e.getClass().getSimpleName());
            }
            Tags tags = Tags.of("feed", feed.id(), "system", feed.system());
            // 0 fresh, 1 stale, 2 silent, 3 pending (nothing due yet).
            Gauge.builder("handoff.feed.status", () -> forGauges(feed.id()).map(s -> s.fresh() ? 0
                    : FeedStatus.STALE.equals(s.status()) ? 1 : FeedStatus.PENDING.equals(s.status()) ? 3 : 2)
                    .orElse(2)).tags(tags)
                    .description("0 fresh, 1 stale, 2 silent, 3 pending (nothing received, nothing due yet)")
                    .register(registry);
            Gauge.builder("handoff.feed.age.seconds", () -> forGauges(feed.id()).map(FeedStatus::age)
                    .map(a -> (double) a.toSeconds()).orElse(Double.NaN)).tags(tags)
                    .description("time since the feed's last record (event feeds) or successful run").register(registry);
            Gauge.builder("handoff.feed.lag.p95.seconds", () -> forGauges(feed.id()).map(FeedStatus::lagP95Ms)
                    .map(l -> l / 1000.0).orElse(Double.NaN)).tags(tags)
                    .description("receive time - event time, p95 over the window").register(registry);
            Gauge.builder("handoff.feed.tolerance.seconds", () -> feed.tolerance().toSeconds()).tags(tags)
                    .register(registry);
        }
        if (settings.feeds().isEmpty()) {
            return;
        }
        Duration every = io.quarkus.runtime.configuration.DurationConverter.parseDuration(interval);
        // The first check one interval after start: feeds get a moment to report before they are judged.
        scheduler.newJob(JOB).setInterval(interval).setDelayed(interval)
                .setConcurrentExecution(ConcurrentExecution.SKIP)
                .setTask(execution -> {
                    // Interval jobs fire at times that depend on each replica's start: claim the interval slot.
                    if (claims.claim(JOB, FireClaims.slot(execution.getScheduledFireTime(), every))) {
                        check();
                    }
                }).schedule();
        LOG.infof("feed detector checks %d feeds every %s", settings.feeds().size(), interval);
    }

    /** One check: alerts on every change of a feed's status since the last alert. Returns the alerts raised. */
    public int check() {
        int raised = 0;
        try {
            for (FeedStatus s : statuses()) {
                String alerted = s.row().alertedStatus();
                // Fresh and pending (nothing due yet) are nothing to alert on.
                String now = s.alarming() ? s.status() : null;
                if (now == null ? alerted == null : now.equals(alerted)) {
                    continue;
                }
                ObjectNode data = Json.MAPPER.createObjectNode();
                data.put("feed", s.feed().id());
                data.put("system", s.feed().system());
                data.put("status", s.status());
                data.put("previous", alerted == null ? FeedStatus.FRESH : alerted);
                data.put("impact", s.feed().impact());
                data.set("segments", Json.MAPPER.valueToTree(s.feed().segments()));
                data.set("reasons", Json.MAPPER.valueToTree(s.reasons()));
                data.put("lastSuccess", s.lastSuccess() == null ? null : s.lastSuccess().toString());
                // Claimed first: of two replicas checking at once, the one that moves the state raises the alert.
                if (!state.alerted(s.feed().id(), alerted, now)) {
                    continue;
                }
                if (now == null) {
                    alerts.raise("feed.recovered", "feed " + s.feed().id() + " is fresh again", data);
                } else {
                    alerts.raise("feed." + now, "feed " + s.feed().id() + " is " + now + ": "
                            + String.join("; ", s.reasons()), data);
                }
                raised++;
            }
            state.forget(clock.instant().minus(FeedState.lookBack(window, TRAILING_WINDOWS)));
            // Claims matter only while replicas compete for one slot; the detector keeps the table small.
            claims.forget(clock.instant().minus(Duration.ofDays(1)));
        } catch (RuntimeException e) {
            LOG.warnf("feed detector: %s; checking again next time", e.getClass().getSimpleName());
        }
        return raised;
    }
}
