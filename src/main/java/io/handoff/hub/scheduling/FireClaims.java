package io.handoff.hub.scheduling;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.springframework.jdbc.core.JdbcTemplate;

import io.handoff.hub.persistence.Sql;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Makes a scheduled job run on exactly one replica per fire. Every replica runs the same cron; at each fire, each one
 * inserts (job, scheduled fire time) into {@code scheduled_fire}, and only the replica whose insert wins runs the job
 * (the primary key decides, in the database all replicas share). It needs no Kubernetes and works the same with one
 * instance; a replica that is down simply does not compete. Claims are counted in
 * {@code handoff_schedule_claims_total{job,outcome=won|lost}}.
 */
@ApplicationScoped
@Named("fireClaims")
public class FireClaims {

    private final JdbcTemplate jdbc;
    private final MeterRegistry registry;
    private final String replica;
    private final Clock clock = Clock.systemUTC();

    public FireClaims(@Named("hubDataSource") DataSource dataSource, MeterRegistry registry) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.registry = registry;
        this.replica = host() + "/" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** True if this replica claimed the fire of {@code job} scheduled for {@code fireTime} (to the second). */
    public boolean claim(String job, Instant fireTime) {
        boolean won = jdbc.update("INSERT INTO scheduled_fire (job, fire_time, claimed_by, claimed_at)"
                + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", job,
                Sql.timestamp(fireTime.truncatedTo(ChronoUnit.SECONDS)), replica, Sql.timestamp(clock.instant())) == 1;
        Counter.builder("handoff.schedule.claims").description("scheduled fires claimed by this replica, or lost")
                .tag("job", job).tag("outcome", won ? "won" : "lost").register(registry).increment();
        return won;
    }

    /**
     * The start of the interval-grid slot (counted from the epoch) {@code fireTime} falls in: interval jobs fire at
     * times that depend on each replica's start, their slot is the same on every replica, so it is what they claim.
     */
    public static Instant slot(Instant fireTime, Duration interval) {
        long size = Math.max(1, interval.toMillis());
        return Instant.ofEpochMilli(Math.floorDiv(fireTime.toEpochMilli(), size) * size);
    }

    /**
     * True if this replica claimed the current slot of an interval job that fires every {@code intervalMs} on each
     * replica (a Camel timer route): {@link #claim} of {@link #slot} now.
     */
    public boolean claimInterval(String job, long intervalMs) {
        return claim(job, slot(clock.instant(), Duration.ofMillis(intervalMs)));
    }

    /** Forgets claims older than {@code before} (they only matter while replicas compete for one fire). */
    public int forget(Instant before) {
        return jdbc.update("DELETE FROM scheduled_fire WHERE fire_time < ?", Sql.timestamp(before));
    }

    public String replica() {
        return replica;
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown-host";
        }
    }
}
