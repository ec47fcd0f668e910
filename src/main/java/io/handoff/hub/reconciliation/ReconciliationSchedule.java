package io.handoff.hub.reconciliation;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.quarkus.main.events.AfterStart;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

import io.handoff.hub.scheduling.FireClaims;
import io.quarkus.scheduler.Scheduled.ConcurrentExecution;
import io.quarkus.scheduler.Scheduler;

/**
 * Scheduled reconciliation: each reconcilable system with a cron ({@code hub.systems.<name>.reconcile.cron}, else
 * {@code hub.reconciliation.cron}; Quartz syntax with seconds, e.g. {@code 0 0 3 * * ?}) gets a job. Every replica
 * schedules it; {@link FireClaims} lets exactly one run each fire. A scheduled run is a dry run; with
 * {@code hub.reconciliation.auto-repair=true} its dangerous drift is repaired right after.
 */
@ApplicationScoped
public class ReconciliationSchedule {

    private static final Logger LOG = Logger.getLogger(ReconciliationSchedule.class);

    private final Scheduler scheduler;
    private final Reconciler reconciler;
    private final FireClaims claims;
    private final Config config;

    public ReconciliationSchedule(Scheduler scheduler, Reconciler reconciler, FireClaims claims, Config config) {
        this.scheduler = scheduler;
        this.reconciler = reconciler;
        this.claims = claims;
        this.config = config;
    }

    void start(@Observes AfterStart event) {
        for (String system : reconciler.systems()) {
            cron(system).ifPresent(cron -> {
                scheduler.newJob("reconcile-" + system).setCron(cron)
                        .setConcurrentExecution(ConcurrentExecution.SKIP)
                        .setTask(execution -> fire(system, execution.getScheduledFireTime())).schedule();
                LOG.infof("%s is reconciled on schedule %s", system, cron);
            });
        }
    }

    Optional<String> cron(String system) {
        return config.getOptionalValue("hub.systems." + system + ".reconcile.cron", String.class)
                .or(() -> config.getOptionalValue("hub.reconciliation.cron", String.class))
                .map(String::strip).filter(c -> !c.isEmpty());
    }

    void fire(String system, Instant scheduledAt) {
        String job = "reconcile-" + system;
        if (!claims.claim(job, scheduledAt)) {
            LOG.debugf("%s fire of %s runs on another replica", job, scheduledAt);
            return;
        }
        try {
            String run = reconciler.start(List.of(system), true, "schedule");
            LOG.infof("scheduled reconciliation %s of %s (fire %s, replica %s)", run, system, scheduledAt,
                    claims.replica());
        } catch (IllegalStateException busy) {
            LOG.warnf("scheduled reconciliation of %s skipped: %s", system, busy.getMessage());
        }
        claims.forget(scheduledAt.minus(Duration.ofDays(7)));
    }
}
