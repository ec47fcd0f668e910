package io.handoff.hub.reconciliation;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.Route;
import org.apache.camel.quarkus.main.events.AfterStart;
import org.apache.camel.quarkus.main.events.BeforeStop;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.handoff.hub.propagation.Backoff;
import io.handoff.hub.propagation.LaneSettings;
import io.handoff.hub.propagation.PropagationLanes;
import io.handoff.hub.propagation.RateLimiter;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.reconciliation.SuppressionPuller.Page;
import io.handoff.hub.reconciliation.SuppressionPuller.PageFailed;
import io.handoff.hub.reconciliation.pullers.HubSpotPuller;
import io.handoff.hub.reconciliation.pullers.KlaviyoPuller;
import io.handoff.hub.reconciliation.pullers.RoutePuller;
import io.handoff.hub.reconciliation.pullers.SalesforcePuller;
import io.handoff.hub.reconciliation.pullers.ShopifyPuller;
import io.handoff.hub.scheduling.FireClaims;

/**
 * Runs suppression reconciliations. A run covers one or more switched-on systems that have a puller (Java for
 * klaviyo, salesforce, hubspot and shopify; {@code direct:puller-<name>} routes made from the {@code paged-puller}
 * template for the rest), each on its own thread: one thread fetches pages (a failed page is asked again with the
 * same cursor, with backoff and the system's Retry-After, up to {@code hub.reconciliation.page-attempts} times) while
 * the run's thread stages the page before into the database; then the database compares the staged list with the
 * ledger ({@link ReconciliationStore#compare}). When every system is done the report stands; a run that is not a dry
 * run then applies its repair plan ({@link DriftRepair}), and each system over the alert threshold raises an alert.
 */
@ApplicationScoped
public class Reconciler {

    private static final Logger LOG = Logger.getLogger(Reconciler.class);
    static final List<String> JAVA_PULLERS = List.of("klaviyo", "salesforce", "hubspot", "shopify");

    private final CamelContext camel;
    private final PropagationLanes lanes;
    private final LaneSettings laneSettings;
    private final ReconciliationStore store;
    private final DriftRepair repair;
    private final DriftAlerts alerts;
    private final ReconciliationMetrics metrics;
    private final String purpose;
    private final int pageAttempts;
    private final Backoff backoff;
    private final int prefetch;
    private final long skewSeconds;
    private final int keepRuns;
    private final Duration staleAfter;
    private final String owner;
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "reconciliation");
        t.setDaemon(true);
        return t;
    });
    private final Clock clock = Clock.systemUTC();
    private volatile Map<String, SuppressionPuller> pullers;
    private final ProducerTemplate template;

    public Reconciler(CamelContext camel, PropagationLanes lanes, LaneSettings laneSettings, ReconciliationStore store,
            DriftRepair repair, DriftAlerts alerts, ReconciliationMetrics metrics,
            // The ledger purpose compared with the systems' email suppression lists (channel email).
            @ConfigProperty(name = "hub.reconciliation.purpose", defaultValue = "marketing") String purpose,
            // Tries of one page before that system's run fails (the same cursor each time).
            @ConfigProperty(name = "hub.reconciliation.page-attempts", defaultValue = "6") int pageAttempts,
            // Backoff between tries of a page: first wait and longest wait, milliseconds (Retry-After wins if longer).
            @ConfigProperty(name = "hub.reconciliation.page-initial-backoff-ms", defaultValue = "1000") long initialMs,
            @ConfigProperty(name = "hub.reconciliation.page-max-backoff-ms", defaultValue = "60000") long maxMs,
            // Pages fetched ahead of the one being staged, per system.
            @ConfigProperty(name = "hub.reconciliation.prefetch-pages", defaultValue = "4") int prefetch,
            @ConfigProperty(name = "hub.consent.clock-skew-ms", defaultValue = "5000") long skewMs,
            // Runs whose per-contact drift rows are kept (older runs keep their totals only).
            @ConfigProperty(name = "hub.reconciliation.keep-runs", defaultValue = "50") int keepRuns,
            // A run whose heartbeat (every page, every phase) is older than this is taken as abandoned: failed and
            // its systems unlocked. Milliseconds.
            @ConfigProperty(name = "hub.reconciliation.stale-after-ms", defaultValue = "600000") long staleAfterMs,
            FireClaims claims) {
        this.camel = camel;
        this.template = camel.createProducerTemplate();
        this.lanes = lanes;
        this.laneSettings = laneSettings;
        this.store = store;
        this.repair = repair;
        this.alerts = alerts;
        this.metrics = metrics;
        this.purpose = purpose;
        this.pageAttempts = Math.max(1, pageAttempts);
        this.backoff = new Backoff(Duration.ofMillis(initialMs), Duration.ofMillis(maxMs));
        this.prefetch = Math.max(1, prefetch);
        // Whole seconds, rounded down: a suppression planned as "newer" is then always one the ledger applies.
        this.skewSeconds = skewMs / 1000;
        this.keepRuns = Math.max(1, keepRuns);
        this.staleAfter = Duration.ofMillis(staleAfterMs);
        this.owner = claims.replica();
    }

    void start(@Observes AfterStart event) {
        failAbandoned();
        systems().forEach(metrics::watch);
    }

    /** Fails runs whose replica stopped heartbeating (it died mid-run), which also unlocks their systems. */
    private void failAbandoned() {
        int abandoned = store.failAbandoned("abandoned: the replica running it stopped",
                clock.instant().minus(staleAfter), "-");
        if (abandoned > 0) {
            LOG.warnf("%d reconciliation run(s) abandoned by a stopped replica marked failed", abandoned);
        }
    }

    /** The systems that can be reconciled: switched on, with a Java puller or a {@code paged-puller} route. */
    public List<String> systems() {
        return List.copyOf(pullers().keySet());
    }

    public String purpose() {
        return purpose;
    }

    /**
     * Starts a run over {@code systems} in the background and returns its id.
     *
     * @throws IllegalStateException if one of them is being reconciled right now (by any replica)
     */
    public String start(List<String> systems, boolean dryRun, String trigger) {
        failAbandoned();
        String runId = UUID.randomUUID().toString();
        store.createRun(runId, systems, trigger, dryRun, owner);
        LOG.infof("reconciliation %s (%s, %s) started for %s", runId, trigger, dryRun ? "dry run" : "repairing",
                systems);
        workers.submit(() -> run(runId, systems, dryRun, trigger));
        return runId;
    }

    /** Every system in parallel; then alerts and, unless a dry run, the repair; the run's status comes last. */
    private void run(String runId, List<String> systems, boolean dryRun, String trigger) {
        try {
            List<CompletableFuture<Void>> parts = new ArrayList<>();
            for (String system : systems) {
                parts.add(CompletableFuture.runAsync(() -> reconcile(runId, system), workers));
            }
            CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).join();
            for (String system : systems) {
                alerts.check(runId, system);
            }
            if (!dryRun) {
                repair.apply(runId, false);
            } else if ("schedule".equals(trigger) && repair.autoRepair()) {
                repair.apply(runId, true);
            }
            store.pruneDrift(keepRuns);
        } catch (RuntimeException | Error e) {
            LOG.errorf("reconciliation %s could not be finished: %s", runId, e.getClass().getName());
            for (String system : systems) {
                store.systemFinished(runId, system, ReconciliationStore.FAILED, "not finished: "
                        + e.getClass().getSimpleName());
            }
        } finally {
            store.runFinished(runId);
            systems.forEach(metrics::refresh);
        }
    }

    private void reconcile(String runId, String system) {
        long started = System.nanoTime();
        Fetcher fetcher = new Fetcher(pullers().get(system), client(system), prefetch);
        Future<?> fetching = null;
        try {
            store.createStage(runId, system);
            fetching = workers.submit(fetcher);
            long pulled = 0;
            int count = 0;
            long staging = 0;
            while (true) {
                Fetched fetched = fetcher.next();
                long stageStarted = System.nanoTime();
                store.stage(runId, system, fetched.page().contacts(), fetched.page().next(), fetched.retries());
                staging += System.nanoTime() - stageStarted;
                pulled += fetched.page().contacts().size();
                count++;
                if (fetched.page().next() == null) {
                    break;
                }
            }
            long compare = System.nanoTime();
            String steps = store.compare(runId, system, purpose, skewSeconds);
            store.systemFinished(runId, system, ReconciliationStore.COMPLETED, null);
            LOG.infof("reconciliation %s: %s listed %d suppressed in %d pages (%d ms, of which staging %d ms),"
                    + " compared in %d ms (%s)", runId, system, pulled, count, (compare - started) / 1_000_000,
                    staging / 1_000_000, (System.nanoTime() - compare) / 1_000_000, steps);
        } catch (Throwable e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            // The vendor's own words for a page (no personal data); for anything else only the kind of failure:
            // database errors can quote the key values, i.e. emails.
            String why = e instanceof PageFailed failed ? failed.getMessage() + " (after retries; the cursor of that"
                    + " page is kept in nextCursor)" : e.getClass().getSimpleName() + sqlState(e);
            LOG.warnf("reconciliation %s: %s failed: %s", runId, system, why);
            Thread.interrupted(); // the run's own bookkeeping below must not fail on a stale interrupt
            store.deleteStaged(runId, system);
            store.systemFinished(runId, system, ReconciliationStore.FAILED, why);
        } finally {
            fetcher.cancel();
            if (fetching != null) {
                fetching.cancel(true);
            }
        }
    }

    private static String sqlState(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLException sql) {
                return " (SQLState " + sql.getSQLState() + ")";
            }
        }
        return "";
    }

    record Fetched(Page page, int retries) {
    }

    /**
     * Fetches one system's pages in order, a few ahead of the staging (a bounded queue), on its own thread. It stops
     * after the last page, on a failure (handed to the stager), or when cancelled (the stager failed).
     */
    final class Fetcher implements Runnable {

        private final SuppressionPuller puller;
        private final VendorClient client;
        private final BlockingQueue<Object> pages;
        private volatile boolean cancelled;
        private volatile boolean finished;

        Fetcher(SuppressionPuller puller, VendorClient client, int prefetch) {
            this.puller = puller;
            this.client = client;
            this.pages = new ArrayBlockingQueue<>(prefetch + 1);
        }

        @Override
        public void run() {
            String cursor = null;
            Object last = null;
            try {
                while (!cancelled) {
                    Fetched fetched = fetchWithRetries(puller, client, cursor);
                    if (fetched.page().next() == null) {
                        last = fetched;
                        return;
                    }
                    hand(fetched);
                    cursor = fetched.page().next();
                }
            } catch (Throwable e) {
                last = e;
            } finally {
                if (last != null && !cancelled) {
                    try {
                        hand(last);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                finished = true;
            }
        }

        /** Puts a page (or the failure) in the queue, waiting while it is full unless cancelled. */
        private void hand(Object item) throws InterruptedException {
            while (!cancelled && !pages.offer(item, 200, TimeUnit.MILLISECONDS)) {
                // the stager is busy with the pages before
            }
        }

        /** The next page; rethrows the fetch's failure. */
        Fetched next() throws Throwable {
            while (true) {
                Object item = pages.poll(1, TimeUnit.SECONDS);
                if (item instanceof Fetched fetched) {
                    return fetched;
                }
                if (item instanceof Throwable failure) {
                    throw failure;
                }
                if (item == null && finished && pages.isEmpty()) {
                    throw new IllegalStateException("the page fetcher stopped without handing over a page");
                }
            }
        }

        void cancel() {
            cancelled = true;
        }
    }

    Fetched fetchWithRetries(SuppressionPuller puller, VendorClient client, String cursor)
            throws PageFailed, InterruptedException {
        for (int attempt = 1;; attempt++) {
            try {
                return new Fetched(puller.page(cursor, client), attempt - 1);
            } catch (PageFailed failed) {
                if (!failed.retryable() || attempt >= pageAttempts) {
                    throw failed;
                }
                Duration wait = backoff.after(attempt, failed.requestedWait().orElse(null));
                LOG.infof("%s page failed (%s): asking for the same page again in %d ms (try %d of %d)",
                        puller.system(), failed.getMessage(), wait.toMillis(), attempt + 1, pageAttempts);
                TimeUnit.MILLISECONDS.sleep(wait.toMillis());
            }
        }
    }

    private VendorClient client(String system) {
        SystemConfig c = lanes.systemConfig(system).orElseThrow();
        RateLimiter limiter = new RateLimiter(c.intValue("reconcile.rate-limit.per-second", PropagationLanes.defaultPerSecond(system)),
                c.intValue("reconcile.rate-limit.per-minute", PropagationLanes.defaultPerMinute(system)));
        String http = "http://" + system + "-reconcile?throwExceptionOnFailure=false&connectTimeout="
                + laneSettings.connectTimeoutMs() + "&responseTimeout="
                + c.intValue("reconcile.response-timeout-ms", 60_000) + "&connectionRequestTimeout="
                + laneSettings.connectTimeoutMs();
        return new VendorClient(template, http, limiter);
    }

    private Map<String, SuppressionPuller> pullers() {
        Map<String, SuppressionPuller> found = pullers;
        if (found == null) {
            synchronized (this) {
                if (pullers == null) {
                    pullers = discover();
                }
                found = pullers;
            }
        }
        return found;
    }

    private Map<String, SuppressionPuller> discover() {
        Map<String, SuppressionPuller> found = new LinkedHashMap<>();
        for (String system : lanes.systems()) {
            Optional<SystemConfig> c = lanes.systemConfig(system);
            if (c.isEmpty()) {
                continue;
            }
            if (JAVA_PULLERS.contains(system)) {
                try {
                    found.put(system, javaPuller(c.get()));
                } catch (IllegalStateException notConfigured) {
                    LOG.warnf("%s is not reconciled: %s", system, notConfigured.getMessage());
                }
            }
        }
        for (Route route : camel.getRoutes()) {
            String uri = route.getEndpoint().getEndpointUri().replace("direct://", "direct:");
            if (uri.startsWith(RoutePuller.ENDPOINT_PREFIX)) {
                String name = uri.substring(RoutePuller.ENDPOINT_PREFIX.length());
                lanes.systemConfig(name).ifPresent(c -> found.put(name, new RoutePuller(c)));
            }
        }
        LOG.infof("reconcilable systems: %s", found.keySet());
        return java.util.Collections.unmodifiableMap(found);
    }

    private SuppressionPuller javaPuller(SystemConfig c) {
        return switch (c.name()) {
            case "klaviyo" -> new KlaviyoPuller(c);
            case "salesforce" -> new SalesforcePuller(c);
            case "hubspot" -> new HubSpotPuller(c, purpose);
            case "shopify" -> new ShopifyPuller(c);
            default -> throw new IllegalArgumentException("no Java puller for " + c.name());
        };
    }

    /** On the way down, while the database is still there (a bean's pre-destroy ran after the pool had closed). */
    void stop(@Observes BeforeStop event) {
        workers.shutdownNow();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
            // What this replica was running stops with it: fail it now rather than when its heartbeat goes stale.
            store.failAbandoned("abandoned: the replica running it stopped", Instant.EPOCH, owner);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warnf("runs of this replica not marked failed on the way down (%s): failed when their heartbeat"
                    + " goes stale", e.getClass().getSimpleName());
        }
    }
}
