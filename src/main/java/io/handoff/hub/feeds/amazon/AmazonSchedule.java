package io.handoff.hub.feeds.amazon;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.quarkus.main.events.AfterStart;
import org.jboss.logging.Logger;

import io.handoff.hub.feeds.amazon.AmazonOrdersPoller.PollFailed;
import io.handoff.hub.feeds.amazon.AmazonOrdersPoller.Run;
import io.handoff.hub.propagation.PropagationLanes;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.scheduling.FireClaims;
import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.scheduler.Scheduled.ConcurrentExecution;
import io.quarkus.scheduler.Scheduler;

/**
 * Polls Amazon's orders ({@link AmazonOrdersPoller}) every {@code hub.systems.amazon.poll-interval} (ISO-8601 such as
 * {@code PT5M}, or the scheduler's short form {@code 5m}; default PT5M; {@code off}: no polling) once Camel runs, if
 * Amazon is switched on ({@code hub.systems.amazon.base-url}, or the sandbox simulating it). The first poll comes
 * {@code hub.systems.amazon.poll-delay} (default PT10S) after the start.
 * <p>
 * Every replica schedules the job; {@link FireClaims} lets one of them poll per interval. An interval job's fire times
 * depend on when each replica started, so the claim is not the fire time itself but the slot of the interval grid
 * (counted from the epoch) it falls in: the first replica to fire in a slot polls, the others skip it.
 */
@ApplicationScoped
public class AmazonSchedule {

    private static final Logger LOG = Logger.getLogger(AmazonSchedule.class);
    static final String JOB = "poll-amazon-orders";

    private final Scheduler scheduler;
    private final AmazonOrdersPoller poller;
    private final FireClaims claims;
    private final PropagationLanes lanes;

    public AmazonSchedule(Scheduler scheduler, AmazonOrdersPoller poller, FireClaims claims, PropagationLanes lanes) {
        this.scheduler = scheduler;
        this.poller = poller;
        this.claims = claims;
        this.lanes = lanes;
    }

    void start(@Observes AfterStart event) {
        Optional<SystemConfig> amazon = lanes.systemConfig(AmazonOrdersPoller.SYSTEM);
        if (amazon.isEmpty()) {
            LOG.debugf("%s is off (hub.systems.amazon.base-url is not set): its orders are not polled",
                    AmazonOrdersPoller.SYSTEM);
            return;
        }
        Optional<Duration> every = interval(amazon.get().value("poll-interval", "PT5M"));
        if (every.isEmpty()) {
            LOG.infof("%s orders are not polled (hub.systems.amazon.poll-interval=off)", AmazonOrdersPoller.SYSTEM);
            return;
        }
        Duration interval = every.get();
        Duration delay = duration("poll-delay", amazon.get().value("poll-delay", "PT10S"));
        scheduler.newJob(JOB).setInterval(interval.toString())
                .setDelayed(delay == null || delay.isNegative() ? "PT0S" : delay.toString())
                .setConcurrentExecution(ConcurrentExecution.SKIP)
                .setTask(execution -> fire(execution.getScheduledFireTime(), interval))
                .schedule();
        LOG.infof("%s orders are polled every %s (feed %s)", AmazonOrdersPoller.SYSTEM, interval,
                AmazonOrdersPoller.FEED);
    }

    /**
     * The poll interval: ISO-8601 or the scheduler's short form ({@code 5m}, {@code 1h}; a plain number is seconds),
     * empty for {@code off}.
     *
     * @throws IllegalArgumentException if it is neither, or shorter than a second
     */
    static Optional<Duration> interval(String value) {
        String v = value.strip();
        if (v.equalsIgnoreCase("off") || v.equalsIgnoreCase("disabled")) {
            return Optional.empty();
        }
        Duration interval = duration("poll-interval", v);
        if (interval == null || interval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("hub.systems.amazon.poll-interval must be at least one second: " + v);
        }
        return Optional.of(interval);
    }

    private static Duration duration(String key, String value) {
        try {
            return DurationConverter.parseDuration(value.strip());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("hub.systems.amazon." + key + " is not a duration (ISO-8601 such as"
                    + " PT5M, or 5m): " + value, e);
        }
    }


    void fire(Instant scheduledAt, Duration interval) {
        Instant slot = FireClaims.slot(scheduledAt, interval);
        if (!claims.claim(JOB, slot)) {
            LOG.debugf("%s slot %s runs on another replica", JOB, slot);
            return;
        }
        try {
            Run run = poller.poll();
            LOG.debugf("%s slot %s: %d orders, watermark %s (replica %s)", JOB, slot, run.orders(), run.watermark(),
                    claims.replica());
        } catch (PollFailed failed) {
            // Already logged and recorded in the feed's state; the next slot reads from the old watermark again.
            LOG.debugf("%s slot %s failed: %s", JOB, slot, failed.getMessage());
        } catch (RuntimeException e) {
            LOG.warnf("%s slot %s could not run: %s", JOB, slot, e.getClass().getSimpleName());
        }
        claims.forget(slot.minus(Duration.ofDays(7)));
    }
}
